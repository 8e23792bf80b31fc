"""The asset factory: each SourceSpec becomes raw -> curated -> published assets and blocking GX checks.

Only wiring lives here: every stage is a plain function from ingest/, curate/, validate/ and publish/, and
its counts are reported as asset metadata.
"""


import hashlib
import json
from functools import partial

import pyarrow as pa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DataVersion,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    asset_check,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ..code import code_version
from ..columns import ROW_SHA256
from ..curate.runner import Curated, curate, load_curated
from ..curate.takedown import load_entries
from ..ingest.runner import Ingest, NoFiles, empty_listing, records_source
from ..ingest.http import FetchError
from ..ingest.state import data_version, last_run, renamed_columns
from ..ingest.warehouse import WhereError, ingest_count, read_records
from ..locks import source_lock
from ..publish import HubError, publish
from ..publish.previous import previous_rows
from ..settings import Settings, pii_key
from ..spec import SourceSpec
from ..stats import CurationReport, StageCount
from ..urls import check_host
from ..validate.runner import record_verdict, run_suite, unvalidated
from ..validate.suites import GENERIC, suite, suite_names
from .resources import Publisher, Warehouse



def network_failure(context: AssetExecutionContext, settings: Settings, message: str) -> Exception:
    """Ingest and publish talk to the network: a network failure asks Dagster to run the step again (COMMONS_RETRIES
    times, COMMONS_RETRY_DELAY seconds later, doubled each time), then fails with `message`. Other failures fail at
    once: retrying them would change nothing."""
    attempt = context.retry_number
    if attempt < settings.retries:
        context.log.warning(message)
        return RetryRequested(max_retries=settings.retries, seconds_to_wait=settings.retry_delay * 2 ** attempt)
    return Failure(description=message)


def keys(spec: SourceSpec) -> tuple[AssetKey, AssetKey, AssetKey]:
    return AssetKey(["raw", spec.id]), AssetKey(["curated", spec.id]), AssetKey(["published", spec.id])


def warehouse_pool(spec: SourceSpec) -> str:
    """DuckDB allows one writer per file: steps that open a source's warehouse file share a pool, which the
    instance limits to one step at a time (`concurrency: pools: default_limit: 1` in dagster.yaml)."""
    return f"warehouse_{spec.id}"


def _tags(spec: SourceSpec) -> dict[str, str]:
    return {"domain": spec.domain.value, "licence": spec.licence.lower().replace(".", "_")}


def stage_table(stages: list[StageCount]) -> MetadataValue:
    records = [TableRecord({"stage": s.stage, "rows_in": s.rows_in, "rows_out": s.rows_out,
                            "removed": sum(s.removed.values()),
                            "by_reason": ", ".join(f"{r}: {n}" for r, n in sorted(s.removed.items())) or "-"})
               for s in stages]
    schema = TableSchema([TableColumn("stage"), TableColumn("rows_in", "int"), TableColumn("rows_out", "int"),
                          TableColumn("removed", "int"), TableColumn("by_reason")])
    return MetadataValue.table(records, schema)


def pii_table(report: CurationReport) -> MetadataValue:
    records = [TableRecord({"type": p.type, "column": p.column, "policy": p.policy, "found": p.count})
               for p in report.pii]
    schema = TableSchema([TableColumn("type"), TableColumn("column"), TableColumn("policy"),
                          TableColumn("found", "int")])
    return MetadataValue.table(records, schema)


def language_table(counts: dict[str, int]) -> MetadataValue:
    return MetadataValue.table([TableRecord({"language": k, "rows": v}) for k, v in counts.items()],
                               TableSchema([TableColumn("language"), TableColumn("rows", "int")]))


def curation_metadata(data: Curated) -> dict:
    """What curation found, as metadata: the PII table, totals per type, the NER backend, rows per language."""
    by_type: dict[str, int] = {}
    for p in data.report.pii:
        by_type[p.type] = by_type.get(p.type, 0) + p.count
    languages = data.languages()
    report = data.report
    return {
        "pii": pii_table(report),
        **{f"pii/{t}": n for t, n in sorted(by_type.items())},
        "pii/ner": report.ner,
        **({"languages": language_table(languages)} if languages else {}),
        **{f"erased/{reason}": n for reason, n in sorted(report.erased.items())},
        **({"previous": MetadataValue.json(report.previous)} if report.previous else {}),
        **({"renamed_columns": MetadataValue.json(report.renamed)} if report.renamed else {}),
        **({"warnings": MetadataValue.json(report.warnings)} if report.warnings else {}),
    }


def arrow_schema(schema: pa.Schema | None) -> MetadataValue:
    return MetadataValue.table_schema(TableSchema([TableColumn(f.name, str(f.type)) for f in schema or []]))


class _Translator(DagsterDltTranslator):
    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    def get_asset_spec(self, data: DltResourceTranslatorData):
        return super().get_asset_spec(data).replace_attributes(
            key=keys(self.spec)[0], deps=[], group_name=self.spec.id, tags=_tags(self.spec),
            description=f"{self.spec.title}: records as landed by dlt in the DuckDB warehouse "
                        f"(kind `{self.spec.kind}`), exactly those of the units listed now; unparseable records "
                        "go to the `quarantine` table.")


def _dlt_metadata(results) -> dict:
    keep = ("first_run", "started_at", "finished_at", "dataset_name", "destination_name", "destination_type",
            "pipeline_name", "jobs", "rows_loaded")
    return {k: v for r in results for k, v in (r.metadata or {}).items() if k in keep}


def source_assets(spec: SourceSpec, settings: Settings) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    raw_key, curated_key, published_key = keys(spec)
    default = Warehouse(warehouse_dir=str(settings.warehouse_dir), dlt_dir=str(settings.dlt_dir),
                        curated_dir=str(settings.curated_dir))
    home = settings.home

    @dlt_assets(dlt_source=records_source(spec), dlt_pipeline=default.pipeline(spec), name=f"ingest_{spec.id}",
                dagster_dlt_translator=_Translator(spec), pool=warehouse_pool(spec))
    def raw(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: Warehouse):
        db = warehouse.database(spec.id)
        with source_lock(home, spec.id, "ingest"):
            check = partial(check_host, allow_local=settings.allow_local_urls)
            job = Ingest(spec, db, warehouse.downloads(spec.id), check)
            try:
                plan = job.make_plan()
            except FetchError as err:
                raise network_failure(context, settings, str(err)) from None
            except (NoFiles, FileNotFoundError) as err:
                raise Failure(str(err)) from None
            loaded = []
            if plan.read:
                loaded = list(dlt.run(context=context, dlt_source=job.source(), dlt_pipeline=warehouse.pipeline(spec)))
            job.commit()
            count, version = ingest_count(db), data_version(db)
        yield MaterializeResult(asset_key=raw_key, data_version=DataVersion(version or "empty"), metadata={
            **_dlt_metadata(loaded),
            "files/listed": len(plan.listed), "files/read": len(plan.read), "files/unchanged_bytes": len(plan.checked),
            "files/removed": len(plan.vanished),
            "dagster/row_count": count.rows_out,
            **{f"quarantined/{reason}": n for reason, n in sorted(count.removed.items())},
        })

    @asset_check(asset=raw_key, name="listing", blocking=True,
                 description="The source's listing found files: an empty listing of a source that had files (a "
                             "moved folder, a wrong glob) keeps the warehouse as it was and blocks publishing.")
    def listing(warehouse: Warehouse) -> AssetCheckResult:
        with source_lock(home, spec.id, "listing check"):
            run = last_run(warehouse.database(spec.id)) or {}
        empty = run.get("listed", 0) == 0
        return AssetCheckResult(passed=not empty, severity=AssetCheckSeverity.ERROR, metadata={
            "files_listed": run.get("listed", 0),
            **({"problem": f"{empty_listing(spec)}; the previous data stays and nothing is published"}
               if empty else {})})

    @asset(key=curated_key, deps=[raw_key], group_name=spec.id, kinds={"parquet"}, tags=_tags(spec),
           pool=warehouse_pool(spec),
           description=f"{spec.title}: curated rows: normalised text, quality filters, personal data treated, "
                       "language identified, provenance, takedowns applied, exact and near duplicates removed.")
    def curated(context: AssetExecutionContext, warehouse: Warehouse, publisher: Publisher) -> MaterializeResult:
        db = warehouse.database(spec.id)
        extra = CurationReport()
        target = publisher.make_target()
        try:
            history = target.history(spec)
            if history:
                extra.previous = {"version": history[-1].name}
            published = partial(previous_rows, target, spec, [ROW_SHA256])  # read only if a curation is made
        except HubError as err:
            published = None
            extra.warnings.append(f"the published version could not be read ({err}); dedup kept the first copy in "
                                  "source order instead of the published one, and the changelog has no comparison")
            context.log.warning(f"{spec.id}: {extra.warnings[-1]}")
        key, entries = pii_key(), load_entries(warehouse.takedown_dir, spec.id)
        with source_lock(home, spec.id, "curate"):  # every use of the warehouse file holds the lock
            extra.renamed = renamed_columns(db)
            inputs = curation_inputs(spec, db, entries, key, published is not None)
            try:
                count = ingest_count(db, spec.where)
            except WhereError as err:
                raise Failure(f"{spec.origin}: {err}") from None
            result = curate(spec, read_records(db, where=spec.where), warehouse.curated(spec.id), ingest=count,
                            published=published or (), pii_key=key, workers=warehouse.workers, takedown=entries,
                            report_extra=extra, inputs=inputs)
        if result.reused:
            context.log.info(f"{spec.id}: nothing changed since curation {result.id}: reused")
        removed = {f"removed/{s.stage}/{reason}": n for s in result.stages for reason, n in s.removed.items()}
        return MaterializeResult(metadata={
            "dagster/row_count": result.rows,
            "curation": result.id,
            "reused": result.reused,
            "path": MetadataValue.path(str(result.folder)),
            "stages": stage_table(result.stages),
            "dagster/column_schema": arrow_schema(result.schema).value,
            **removed,
            **curation_metadata(result),
        })

    checks = [_suite_check(spec, name, curated_key, home) for name in suite_names(spec)]

    @asset(key=published_key, deps=[curated_key], group_name=spec.id, kinds={"parquet", "huggingface"},
           tags=_tags(spec), pool=warehouse_pool(spec),
           description=f"{spec.title}: versioned Parquet shards with a dataset card, "
                       f"published to {spec.publish.repo_id} (Hub) or the local folder.")
    def published(context: AssetExecutionContext, warehouse: Warehouse, publisher: Publisher) -> MaterializeResult:
        with source_lock(home, spec.id, "publish"):
            data = load_curated(warehouse.curated(spec.id))
            problems = unvalidated(data, suite_names(spec))
            if problems:
                raise Failure(description=f"{spec.id}: not published, the current version stays live: "
                                          + "; ".join(problems))
            try:
                result = publish(spec, data.files, data.stages, publisher.make_target(), report=data.report,
                                 max_shard_bytes=publisher.max_shard_bytes)
            except HubError as err:
                message = f"{spec.id}: not published, the current version stays live: {err}"
                raise network_failure(context, settings, message) from None
        context.log.info(f"{spec.id}: " + (f"published {result.version}" if result.changed
                                            else f"unchanged, {result.version} stays current"))
        return MaterializeResult(metadata={
            "version": result.version,
            "changed": result.changed,
            "content_sha256": result.content_sha256,
            "dagster/row_count": result.rows,
            "shards": len(result.shards),
            "location": result.location,
            "stages": stage_table(data.stages),
            **curation_metadata(data),
        })

    return [raw, curated, published], [listing, *checks]


def curation_inputs(spec: SourceSpec, db, entries, key: bytes | None, published: bool) -> dict:
    """Everything a curation depends on; the same inputs give the same curation, which is then reused."""
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    return {"raw": data_version(db), "spec": digest(spec.model_dump_json(exclude={"origin"}).encode()),
            "takedown": digest(json.dumps([vars(e) for e in entries], sort_keys=True).encode()),
            "code": code_version("curate"), "key": digest(b"commons-pii-key\0" + key) if key else "",
            "published": "read" if published else "unavailable"}


def _suite_check(spec: SourceSpec, name: str, curated_key: AssetKey, home) -> AssetChecksDefinition:
    what = ("rows > 0, provenance and key columns not null, row hash unique, licence open, no residual personal data"
            if name == GENERIC
            else "the expectations declared in the source YAML")

    @asset_check(asset=curated_key, name=f"{name}_suite", blocking=True,
                 description=f"Great Expectations, {name} suite: {what}. Blocks publishing when it fails.")
    def check(warehouse: Warehouse) -> AssetCheckResult:
        with source_lock(home, spec.id, f"check {name}"):
            data = load_curated(warehouse.curated(spec.id))
            result = run_suite(data, name, suite(spec, name, data.schema))
            record_verdict(data, result)
        return AssetCheckResult(
            passed=result.success,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "curation": data.id,
                "evaluated_expectations": result.evaluated,
                "successful_expectations": result.successful,
                "success_percent": round(100 * result.successful / result.evaluated, 2) if result.evaluated else 0.0,
                "shards": result.shards,
                "rows": result.rows,
                "failures": MetadataValue.json(result.failures),
            },
        )

    return check

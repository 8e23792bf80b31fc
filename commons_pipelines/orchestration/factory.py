"""The asset factory: each SourceSpec becomes raw -> curated -> published assets and blocking GX checks.

Only wiring lives here: every stage is a plain function from ingest/, curate/, validate/ and publish/, and
its counts are reported as asset metadata.
"""


from pathlib import Path

import pyarrow as pa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetChecksDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    asset_check,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ..curate.provenance import ROW_SHA256
from ..curate.runner import Curated, curate, dedup_columns, load_curated
from ..ingest.files import files_source
from ..ingest.warehouse import ingest_count, read_records
from ..publish import publish
from ..publish.previous import previous_rows
from ..settings import Settings, pii_key
from ..spec import SourceSpec
from ..stats import CurationReport, StageCount
from ..validate.runner import record_verdict, run_suite, unvalidated
from ..validate.suites import GENERIC, suite, suite_names
from .resources import Publisher, Warehouse


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
    return {
        "pii": pii_table(data.report),
        **{f"pii/{t}": n for t, n in sorted(by_type.items())},
        "pii/ner": data.report.ner,
        **({"languages": language_table(languages)} if languages else {}),
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
                        f"(kind `{self.spec.kind}`); unparseable records go to the `quarantine` table.")


def source_assets(spec: SourceSpec, settings: Settings) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    raw_key, curated_key, published_key = keys(spec)
    default = Warehouse(warehouse_dir=str(settings.warehouse_dir), dlt_dir=str(settings.dlt_dir),
                        curated_dir=str(settings.curated_dir))

    @dlt_assets(dlt_source=files_source(spec), dlt_pipeline=default.pipeline(spec), name=f"ingest_{spec.id}",
                dagster_dlt_translator=_Translator(spec), pool=warehouse_pool(spec))
    def raw(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: Warehouse):
        if spec.files and not spec.files.is_remote and not Path(spec.files_location()).exists():
            raise Failure(f"{spec.origin}: field 'files.path': {spec.files_location()} does not exist")
        # a fresh source each run: a dlt source object that has been extracted once cannot be run again
        yield from dlt.run(context=context, dlt_source=files_source(spec), dlt_pipeline=warehouse.pipeline(spec))

    @asset(key=curated_key, deps=[raw_key], group_name=spec.id, kinds={"parquet"}, tags=_tags(spec),
           pool=warehouse_pool(spec),
           description=f"{spec.title}: curated rows: normalised text, quality filters, personal data treated, "
                       "language identified, provenance, exact and near duplicates removed.")
    def curated(context: AssetExecutionContext, warehouse: Warehouse, publisher: Publisher) -> MaterializeResult:
        db = warehouse.database(spec.id)
        published = previous_rows(publisher.make_target(), spec, [*dedup_columns(spec), ROW_SHA256])
        result = curate(spec, read_records(db), warehouse.curated(spec.id), ingest=ingest_count(db),
                        published=published, pii_key=pii_key(), workers=warehouse.workers)
        removed = {f"removed/{s.stage}/{reason}": n for s in result.stages for reason, n in s.removed.items()}
        return MaterializeResult(metadata={
            "dagster/row_count": result.rows,
            "curation": result.id,
            "path": MetadataValue.path(str(result.folder)),
            "stages": stage_table(result.stages),
            "dagster/column_schema": arrow_schema(result.schema).value,
            **removed,
            **curation_metadata(result),
        })

    checks = [_suite_check(spec, name, curated_key) for name in suite_names(spec)]

    @asset(key=published_key, deps=[curated_key], group_name=spec.id, kinds={"parquet", "huggingface"},
           tags=_tags(spec), description=f"{spec.title}: versioned Parquet shards with a dataset card, "
                                         f"published to {spec.publish.repo_id} (Hub) or the local folder.")
    def published(context: AssetExecutionContext, warehouse: Warehouse, publisher: Publisher) -> MaterializeResult:
        data = load_curated(warehouse.curated(spec.id))
        problems = unvalidated(data, suite_names(spec))
        if problems:
            raise Failure(description=f"{spec.id}: not published, the current version stays live: "
                                      + "; ".join(problems))
        result = publish(spec, data.files, data.stages, publisher.make_target(), report=data.report,
                         max_shard_bytes=publisher.max_shard_bytes, work_dir=publisher.work_dir())
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

    return [raw, curated, published], checks


def _suite_check(spec: SourceSpec, name: str, curated_key: AssetKey) -> AssetChecksDefinition:
    what = ("rows > 0, provenance and key columns not null, row hash unique, licence open, no residual personal data"
            if name == GENERIC
            else "the expectations declared in the source YAML")

    @asset_check(asset=curated_key, name=f"{name}_suite", blocking=True,
                 description=f"Great Expectations, {name} suite: {what}. Blocks publishing when it fails.")
    def check(warehouse: Warehouse) -> AssetCheckResult:
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

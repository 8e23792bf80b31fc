"""The asset factory: each SourceSpec becomes raw -> curated -> published assets and blocking GX checks.

Only wiring lives here: every stage is a plain function from ingest/, curate/, validate/ and publish/, and
its counts are reported as asset metadata.

What the UI shows: owners, descriptions and column descriptions from the YAML; kinds; the YAML as code reference;
a code version per stage (the spec's digest and the stage's code version), so an unchanged source is not stale.
Each materialisation has a row count and a column schema; curated and published also a preview of a few rows, which
the raw asset never has: raw rows are not yet treated for personal data, and the UI is no place to show it. The
keys stay `raw/<id>`, `curated/<id>`, `published/<id>` (the CLI, the tests and the run history read them); Dagster
1.13 labels a graph node with the key's last part and has no display name, so the three nodes of a source are told
apart by their kinds and descriptions.
"""


import hashlib
import json
import warnings
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from croniter import croniter
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetsDefinition,
    AssetSpec,
    BetaWarning,
    CodeReferencesMetadataValue,
    DataVersion,
    DynamicPartitionsDefinition,
    Failure,
    FreshnessPolicy,
    LocalFileCodeReference,
    MaterializeResult,
    MetadataValue,
    RetryRequested,
    StaticPartitionsDefinition,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    asset_check,
    multi_asset,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData

from ..code import code_version
from ..columns import ROW_SHA256
from ..curate import partitions as parts
from ..curate.pii import frog
from ..curate.runner import Curated, curate, load_curated, with_text_columns
from ..curate.takedown import load_entries
from ..ingest.runner import Ingest, SourceError, empty_listing, records_source
from ..ingest.http import FetchError
from ..ingest.state import (RAW, RECORDS, connect, data_version, known_files, last_run, record_compute,
                             renamed_columns, tables)
from ..ingest.warehouse import WhereError, ingest_count, partition_versions, read_records
from ..footprint import measured
from ..footprint import read as read_compute
from ..footprint import write as write_compute
from ..locks import source_lock
from ..naming import column_name
from ..publish import HubError, publish
from ..publish.previous import previous_rows
from ..settings import Settings, pii_key
from ..spec import SourceSpec, SpecError
from ..stats import CurationReport, StageCount
from ..urls import check_host
from ..validate.runner import record_verdict, run_suite, unvalidated, verdict_path, write_docs
from ..validate.suites import GENERIC, suite, suite_names
from .resources import Publisher, Warehouse



NIGHTLY_CRON = "0 2 * * *"


def network_failure(context: AssetExecutionContext, settings: Settings, message: str) -> Exception:
    """Ingest and publish talk to the network: a network failure asks Dagster to run the step again (COMMONS_RETRIES
    times, COMMONS_RETRY_DELAY seconds later, doubled each time), then fails with `message`. Other failures fail at
    once: retrying them would change nothing."""
    attempt = context.retry_number
    if attempt < settings.retries:
        context.log.warning(message)
        return RetryRequested(max_retries=settings.retries, seconds_to_wait=settings.retry_delay * 2 ** attempt)
    return Failure(description=message)


CHANGED = "partitions/changed"
"""The raw asset's metadata with COMMONS_PARTITION_RUNS: the partitions to stage anew (orchestration/runs.py)."""


def keys(spec: SourceSpec) -> tuple[AssetKey, AssetKey, AssetKey]:
    return AssetKey([spec.id, "raw"]), AssetKey([spec.id, "curated"]), AssetKey([spec.id, "published"])


def staged_key(spec: SourceSpec) -> AssetKey:
    """The partitioned asset of a source curated in partitions (`partitions:`): the row steps, one partition each."""
    return AssetKey([spec.id, "staged"])


def warehouse_pool(spec: SourceSpec) -> str:
    """DuckDB allows one writer per file: steps that open a source's warehouse file share a pool, which the
    instance limits to one step at a time (`concurrency: pools: default_limit: 1` in dagster.yaml)."""
    return f"warehouse_{spec.id}"


def _tags(spec: SourceSpec) -> dict[str, str]:
    return {"domain": spec.domain.value, "licence": spec.licence.lower().replace(".", "_")}


def stage_code_version(spec: SourceSpec, stage: str) -> str:
    """The source's spec and the stage's code: when neither changed, Dagster does not show the asset as stale."""
    spec_json = spec.model_dump_json(exclude={"origin"})
    return hashlib.sha256(f"{spec_json}\0{code_version(stage)}".encode()).hexdigest()[:16]


def code_references(spec: SourceSpec, *files: Path) -> dict:
    """The source's YAML (and the kind's module) as the assets' code, opened from the UI."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        refs = [LocalFileCodeReference(file_path=str(Path(f).resolve()), label=label)
                for f, label in [*([(spec.origin, "source YAML")] if spec.origin else []),
                                 *((f, f.name) for f in files)]]
        return {"dagster/code_references": CodeReferencesMetadataValue(code_references=refs)}


def freshness(cron: str) -> FreshnessPolicy:
    """Fails when the last materialisation is older than the longest gap between two runs of `cron`, plus 2 hours
    for the run itself (26 hours for the nightly)."""
    ticks = croniter(cron, datetime(2026, 1, 1))
    times = [ticks.get_next(datetime) for _ in range(60)]
    gap = max(b - a for a, b in zip(times, times[1:]))
    return FreshnessPolicy.time_window(fail_window=gap + timedelta(hours=2), warn_window=gap + timedelta(hours=1))


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


def compute_table(found: list[dict]) -> MetadataValue:
    columns = ("stage", "seconds", "cpu_seconds", "peak_rss_mb", "energy_wh", "emissions_g")
    return MetadataValue.table(
        [TableRecord({c: f.get(c) if c == "stage" else round(f.get(c) or 0.0, 3) for c in columns}) for f in found],
        TableSchema([TableColumn("stage"), *(TableColumn(c, "float") for c in columns[1:])]))


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
        **({"text_columns": ", ".join(report.text_columns) + (" (detected)" if report.text_detected else "")}
           if report.text_columns else {}),
        **({"pii/ner_languages": MetadataValue.json(report.ner_languages)} if report.ner_languages else {}),
        **({"languages": language_table(languages)} if languages else {}),
        **{f"erased/{reason}": n for reason, n in sorted(report.erased.items())},
        **({"previous": MetadataValue.json(report.previous)} if report.previous else {}),
        **({"renamed_columns": MetadataValue.json(report.renamed)} if report.renamed else {}),
        **({"warnings": MetadataValue.json(report.warnings)} if report.warnings else {}),
    }


def arrow_schema(schema: pa.Schema | None, spec: SourceSpec | None = None) -> MetadataValue:
    return column_schema([(f.name, str(f.type)) for f in schema or []], spec)


def column_schema(columns: list[tuple[str, str]], spec: SourceSpec | None) -> MetadataValue:
    """Columns with their types, and their descriptions from the YAML (`columns:`, by source or curated name)."""
    given = spec.columns if spec else {}
    described = {**{column_name(k): v for k, v in given.items()}, **given}
    return MetadataValue.table_schema(TableSchema([TableColumn(n, t, description=described.get(n))
                                                   for n, t in columns]))


def raw_schema(db: Path, spec: SourceSpec) -> MetadataValue:
    """raw.records as DuckDB describes it, dlt's bookkeeping columns left out."""
    with connect(db, read_only=True) as con:
        found = con.execute(f"describe {RAW}.{RECORDS}").fetchall() if RECORDS in tables(con, RAW) else []
    return column_schema([(r[0], r[1]) for r in found if not r[0].startswith("_dlt_")], spec)


def _cell(value, width: int = 60) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    text = text if len(text) <= width else text[:width - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def preview(files: list[Path], rows: int = 5) -> MetadataValue:
    """A markdown table of the first rows (curated or published data only: those are treated for personal data)."""
    batch = next(pq.ParquetFile(files[0]).iter_batches(batch_size=rows), None) if files else None
    if batch is None:
        return MetadataValue.md("*no rows*")
    names = batch.schema.names
    lines = ["| " + " | ".join(_cell(n) for n in names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_cell(r[n]) for n in names) + " |" for r in batch.to_pylist()]
    return MetadataValue.md("\n".join(lines))


class _Translator(DagsterDltTranslator):
    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    def get_asset_spec(self, data: DltResourceTranslatorData):
        spec = self.spec
        kind_module = Path(__file__).parents[1] / "ingest" / f"{spec.kind}.py"
        return super().get_asset_spec(data).replace_attributes(
            key=keys(spec)[0], deps=[], group_name=spec.id, tags=_tags(spec), owners=spec.owners,
            kinds={"dlt", "duckdb"}, code_version=stage_code_version(spec, "ingest"),
            metadata=code_references(spec, kind_module),
            description=f"Raw: {spec.title}. {spec.description.strip()}\n\nRecords as landed by dlt in the DuckDB "
                        f"warehouse (kind `{spec.kind}`), exactly those of the units listed now; unparseable records "
                        "go to the `quarantine` table.")


def raw_specs(spec: SourceSpec, translator: _Translator) -> list[AssetSpec]:
    """dagster-dlt's asset specs without the source, pipeline and translator objects that `dlt_assets` keeps as
    definition metadata (shown in the UI as "[DltSource] (unserializable)"): the raw asset passes them to dlt. No
    pipeline: the translator sets what dagster-dlt would read from one, and making one resolves dlt's configuration
    and writes its folder (0.1-0.2 s a source each time the definitions load)."""
    return [a.replace_attributes(metadata={k: v for k, v in a.metadata.items() if not k.startswith("dagster_dlt/")})
            for a in build_dlt_asset_specs(records_source(spec), None, translator)]


def source_assets(spec: SourceSpec, settings: Settings) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    raw_key, curated_key, published_key = keys(spec)
    home = settings.home

    translator = _Translator(spec)

    @multi_asset(specs=raw_specs(spec, translator), name=f"ingest_{spec.id}",
                 can_subset=True, pool=warehouse_pool(spec))
    def raw(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: Warehouse):
        db = warehouse.database(spec.id)
        db.parent.mkdir(parents=True, exist_ok=True)
        runs = settings.partition_runs and spec.partitions  # the partitions to stage anew go in the metadata
        with source_lock(home, spec.id, "ingest"):
            warehouse.fetch(spec.id, curated=bool(runs))
            check = partial(check_host, allow_local=settings.allow_local_urls)
            job = Ingest(spec, db, warehouse.downloads(spec.id), check)
            with measured("ingest") as cost:
                try:
                    plan = job.make_plan()
                except FetchError as err:
                    raise network_failure(context, settings, str(err)) from None
                except (SourceError, SpecError, FileNotFoundError) as err:
                    raise Failure(str(err)) from None
                if parts.dynamic_name(spec):  # a file without a partition stops the ingest before it loads
                    source_partitions(spec, [f.path for f in plan.listed])
                loaded = []
                if plan.read:
                    loaded = list(dlt.run(context=context, dlt_source=job.source(),
                                          dlt_pipeline=warehouse.pipeline(spec), dagster_dlt_translator=translator))
                job.commit()
            record_compute(db, job.run_id, cost.as_dict())
            found = sync_partitions(context, spec, warehouse, db) if parts.dynamic_name(spec) else None
            count, version, schema = ingest_count(db), data_version(db), raw_schema(db, spec)
            changed = changed_partitions(spec, warehouse, db) if runs else None
            warehouse.keep(spec.id, database=True)
        # our counts instead of dlt's load info; no preview of rows: raw rows are not yet treated for personal data
        yield MaterializeResult(asset_key=raw_key, data_version=DataVersion(version or "empty"), metadata={
            "dagster/row_count": count.rows_out,
            "dagster/column_schema": schema,
            "rows/landed": count.rows_out,
            "rows/loaded_now": sum(getattr(r.metadata.get("rows_loaded"), "value", 0) or 0 for r in loaded),
            "files/listed": len(plan.listed), "files/read": len(plan.read), "files/unchanged_bytes": len(plan.checked),
            "files/removed": len(plan.vanished),
            **({"partitions": len(found)} if found is not None else {}),
            **({CHANGED: MetadataValue.json(changed)} if changed is not None else {}),
            "quarantined": sum(count.removed.values()),
            **{f"quarantined/{reason}": n for reason, n in sorted(count.removed.items())},
            **cost.metadata(),
        })

    @asset_check(asset=raw_key, name="listing", blocking=True,
                 description="The source's listing found files: an empty listing of a source that had files (a "
                             "moved folder, a wrong glob) keeps the warehouse as it was and blocks publishing.")
    def listing(warehouse: Warehouse) -> AssetCheckResult:
        with source_lock(home, spec.id, "listing check"):
            warehouse.fetch(spec.id, curated=False)
            run = last_run(warehouse.database(spec.id)) or {}
        empty = run.get("listed", 0) == 0
        return AssetCheckResult(passed=not empty, severity=AssetCheckSeverity.ERROR, metadata={
            "files_listed": run.get("listed", 0),
            **({"problem": f"{empty_listing(spec)}; the previous data stays and nothing is published"}
               if empty else {})})

    staged = None
    if spec.partitions:
        way = parts.by(spec)
        cut = (f"in {spec.partitions} partitions by landed file" if way == "hash"
               else "one partition per landed file" if way == "file" else "one partition per day in the files' paths")

        @asset(key=staged_key(spec), deps=[raw_key], group_name=spec.id, kinds={"parquet"}, tags=_tags(spec),
               partitions_def=(StaticPartitionsDefinition(parts.partition_names(spec.partitions)) if way == "hash"
                               else DynamicPartitionsDefinition(name=parts.dynamic_name(spec))),
               owners=spec.owners, code_version=stage_code_version(spec, "curate"), metadata=code_references(spec),
               description=f"Staged: {spec.title}, {cut}. The row steps "
                           "(normalised text, quality filters, language, personal data, provenance, takedowns) "
                           "over one partition's files; reused while they are unchanged. Partitions run in "
                           "parallel runs and are retried alone; the curated asset dedups over all of them.")
        def staged(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
            name = context.partition_key
            db = warehouse.database(spec.id)
            warehouse.fetch(spec.id, partition=name)
            split = source_partitions(spec, known_files(db))
            if name not in split:
                raise Failure(f"{spec.id}: partition {name} holds no file now (its files vanished or were never "
                              "landed): nothing to stage")
            key, entries = pii_key(), load_entries(warehouse.takedown_dir, spec.id)
            with measured("stage") as cost:
                part = stage_partition(text_spec(spec, warehouse, db)[0], warehouse, home, db, name, split,
                                       curation_inputs(spec, db, entries, key, True), key, entries)
            warehouse.keep(spec.id, curated=True, partition=name)
            return MaterializeResult(metadata={**partition_metadata(part), "files": len(split[name]),
                                               **cost.metadata()})

    # raw too when partitioned: the nightly leaves `staged` out, and must still run curated after raw
    @asset(key=curated_key, deps=[raw_key, *([staged_key(spec)] if spec.partitions else [])], group_name=spec.id,
           kinds={"parquet"}, tags=_tags(spec),
           pool=warehouse_pool(spec), owners=spec.owners, code_version=stage_code_version(spec, "curate"),
           metadata=code_references(spec),
           description=f"Curated: {spec.title}. {spec.description.strip()}\n\nNormalised text, quality filters, "
                       "personal data treated, language identified, provenance, takedowns applied, exact and near "
                       "duplicates removed.")
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
            warehouse.fetch(spec.id)
            extra.renamed = renamed_columns(db)
            inputs = curation_inputs(spec, db, entries, key, published is not None)
            try:
                count = ingest_count(db, spec.where)
            except WhereError as err:
                raise Failure(f"{spec.origin}: {err}") from None
            with measured("curate") as cost:
                if spec.partitions:
                    result = curate_partitions(context, spec, warehouse, home, db, count, published, key, entries,
                                               extra, inputs)
                else:
                    parts.drop_others(warehouse.curated(spec.id), [])
                    result = curate(spec, read_records(db, warehouse.batch_rows, where=spec.where),
                                    warehouse.curated(spec.id), ingest=count, published=published or (), pii_key=key,
                                    workers=warehouse.workers, engine=warehouse.engine,
                                    ray_address=warehouse.ray_address, takedown=entries, report_extra=extra,
                                    inputs=inputs)
            if not result.reused:  # the version made from this curation: what its ingest and curation cost
                ingest_cost = (last_run(db) or {}).get("compute")
                for found in ([ingest_cost] if ingest_cost else []) + [cost]:
                    write_compute(result.folder, found)
            warehouse.keep(spec.id, curated=True)
        if result.reused:
            context.log.info(f"{spec.id}: nothing changed since curation {result.id}: reused")
        removed = {f"removed/{s.stage}/{reason}": n for s in result.stages for reason, n in s.removed.items()}
        return MaterializeResult(metadata={
            "dagster/row_count": result.rows,
            "curation": result.id,
            "reused": result.reused,
            "path": MetadataValue.path(str(result.folder)),
            "stages": stage_table(result.stages),
            "dagster/column_schema": arrow_schema(result.schema, spec).value,
            "preview": preview(result.files),
            **removed,
            **curation_metadata(result),
            **cost.metadata(),
        })

    checks = [_suite_check(spec, name, curated_key, home) for name in suite_names(spec)]

    @asset(key=published_key, deps=[curated_key], group_name=spec.id, kinds={"parquet", "huggingface"},
           tags=_tags(spec), pool=warehouse_pool(spec), owners=spec.owners,
           code_version=stage_code_version(spec, "publish"), metadata=code_references(spec),
           freshness_policy=freshness(spec.schedule or NIGHTLY_CRON),
           description=f"Published: {spec.title}. {spec.description.strip()}\n\nVersioned Parquet shards with a "
                       f"dataset card, published to {spec.publish.repo_id} (Hub) or the local folder.")
    def published(context: AssetExecutionContext, warehouse: Warehouse, publisher: Publisher) -> MaterializeResult:
        with source_lock(home, spec.id, "publish"):
            warehouse.fetch(spec.id, database=False)
            data = load_curated(warehouse.curated(spec.id))
            problems = unvalidated(data, suite_names(spec))
            if problems:
                raise Failure(description=f"{spec.id}: not published, the current version stays live: "
                                          + "; ".join(problems))
            target = publisher.make_target()
            data.report.compute = read_compute(data.folder)  # what made this version, on its card
            try:
                with measured("publish") as cost:
                    result = publish(spec, data.files, data.stages, target, report=data.report,
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
            **published_links(target.url(spec), result),
            "dagster/column_schema": arrow_schema(data.schema, spec).value,
            "preview": preview(data.files),
            "stages": stage_table(data.stages),
            **{f"removed/{s.stage}/{reason}": n for s in data.stages for reason, n in s.removed.items()},
            **curation_metadata(data),
            **cost.metadata(),
            **({"compute": compute_table(data.report.compute)} if data.report.compute else {}),
        })

    return [raw, *([staged] if staged else []), curated, published], [listing, *checks]


def published_links(url: str | None, result) -> dict:
    """The published version and its card: pages of the Hub at the version's tag, or files of the local folder."""
    if url:
        return {"dataset": MetadataValue.url(f"{url}/tree/{result.version}"),
                "card": MetadataValue.url(f"{url}/blob/{result.version}/README.md")}
    return {"dataset": MetadataValue.path(result.ref), "card": MetadataValue.path(f"{result.ref}/README.md")}


NOT_CURATED = {"origin", "owners", "columns", "title", "description", "attribution", "expectations", "publish",
               "schedule"}
"""Fields of a source that curation does not read (the UI, the card, the checks, publishing): editing them reuses
the curation; its checks run again all the same."""


def text_spec(spec: SourceSpec, warehouse: Warehouse, db: Path) -> tuple[SourceSpec, bool]:
    """The spec with its text columns, found in the source's first batch when it declares none (curate/text.py):
    once for the whole source, so that every partition reads the same columns."""
    if "text_columns" in spec.model_fields_set:
        return spec, False
    spec, _ = with_text_columns(spec, read_records(db, warehouse.batch_rows, where=spec.where))
    return spec, True


def source_partitions(spec: SourceSpec, files) -> dict[str, list[str]]:
    """Each partition's files (curate/partitions.split), a file without a partition a Failure naming the YAML."""
    try:
        return parts.split(spec, files)
    except parts.PartitionError as err:
        raise Failure(f"{spec.origin}: {err}") from None


def sync_partitions(context: AssetExecutionContext, spec: SourceSpec, warehouse: Warehouse, db: Path) -> list[str]:
    """The source's dynamic partitions made those of the files the warehouse records: new keys added, the keys and
    folders of vanished files' (or days') partitions removed."""
    names = list(source_partitions(spec, known_files(db)))
    dynamic, instance = parts.dynamic_name(spec), context.instance
    held = set(instance.get_dynamic_partitions(dynamic))
    instance.add_dynamic_partitions(dynamic, [n for n in names if n not in held])
    for gone in sorted(held - set(names)):
        instance.delete_dynamic_partition(dynamic, gone)
    parts.drop_others(warehouse.curated(spec.id), names)
    return names


def stage_partition(spec: SourceSpec, warehouse: Warehouse, home: Path, db: Path, name: str,
                    split: dict[str, list[str]], inputs: dict, key: bytes | None, entries,
                    versions: dict[str, str] | None = None) -> Curated:
    """Partition `name`'s row steps (curate/partitions.stage) over its files (`split`: source_partitions), or its
    current curation when its inputs are unchanged; one run at a time per partition. `spec` carries the source's
    text columns (text_spec); `versions` are partition_versions, read here when not given."""
    with source_lock(home, f"{spec.id}.{name}", f"partition {name}"):
        version = (versions or partition_digests(db, split))[name]
        batches = read_records(db, warehouse.batch_rows, where=spec.where, partition=set(split[name]))
        return parts.stage(spec, batches, warehouse.curated(spec.id), name, parts.partition_inputs(inputs, version),
                           pii_key=key, workers=warehouse.workers, engine=warehouse.engine,
                           ray_address=warehouse.ray_address, takedown=entries)


def changed_partitions(spec: SourceSpec, warehouse: Warehouse, db: Path) -> list[str]:
    """The partitions whose staging is not current: their records, or anything else a staging depends on (the spec,
    the code, the takedown list, the key), changed since it was made; every partition the first time."""
    split = source_partitions(spec, known_files(db))
    versions = partition_digests(db, split)
    inputs = curation_inputs(spec, db, load_entries(warehouse.takedown_dir, spec.id), pii_key(), True)
    changed = []
    for name in split:
        try:
            held = load_curated(parts.folder_of(warehouse.curated(spec.id), name)).inputs
        except FileNotFoundError:
            held = None
        if held != parts.partition_inputs(inputs, versions[name]):
            changed.append(name)
    return changed


def partition_digests(db: Path, split: dict[str, list[str]]) -> dict[str, str]:
    where = {f: name for name, files in split.items() for f in files}
    return partition_versions(db, list(split), where.get)


def curate_partitions(context: AssetExecutionContext, spec: SourceSpec, warehouse: Warehouse, home: Path, db: Path,
                      count: StageCount, published, key: bytes | None, entries, extra: CurationReport,
                      inputs: dict) -> Curated:
    """Every partition's row steps (those whose records or inputs changed), then dedup over them all. A partition
    staged here is reported as a materialisation of its partition of the `staged` asset."""
    spec, detected = text_spec(spec, warehouse, db)
    split = source_partitions(spec, known_files(db))
    if parts.dynamic_name(spec):  # the keys of the partitions reported below exist even when raw ran elsewhere
        sync_partitions(context, spec, warehouse, db)
    versions = partition_digests(db, split)
    staged = []
    for name in split:
        part = stage_partition(spec, warehouse, home, db, name, split, inputs, key, entries, versions)
        if not part.reused:
            context.log_event(AssetMaterialization(asset_key=staged_key(spec), partition=name,
                                                   metadata=partition_metadata(part)))
        staged.append(part)
    parts.drop_others(warehouse.curated(spec.id), split)
    context.log.info(f"{spec.id}: partitions staged anew: "
                     + (", ".join(n for n, p in zip(split, staged) if not p.reused) or "none"))
    return parts.combine(spec, staged, warehouse.curated(spec.id), count, published=published or (),
                         text_detected=detected, report_extra=extra, inputs=inputs)


def partition_metadata(part: Curated) -> dict:
    return {"dagster/row_count": part.rows, "curation": part.id, "reused": part.reused,
            "path": MetadataValue.path(str(part.folder)), "stages": stage_table(part.stages)}


def curation_inputs(spec: SourceSpec, db, entries, key: bytes | None, published: bool) -> dict:
    """Everything a curation depends on; the same inputs give the same curation, which is then reused."""
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    what = spec.model_dump_json(exclude=NOT_CURATED)
    return {"raw": data_version(db), "spec": digest(what.encode()),
            "takedown": digest(json.dumps([vars(e) for e in entries], sort_keys=True).encode()),
            "code": code_version("curate"), "key": digest(b"commons-pii-key\0" + key) if key else "",
            "published": "read" if published else "unavailable", "frog": frog.label()}


def failing_values(failures: list[dict]) -> MetadataValue:
    lines = ["| expectation | column | unexpected | sample |", "|---|---|---|---|"]
    lines += [f"| {f['expectation']} | {_cell(f.get('column') or '-')} | {f.get('unexpected_count')} | "
              + (", ".join(_cell(v, 40) for v in f.get("sample") or []) or "-") + " |" for f in failures]
    return MetadataValue.md("\n".join(lines))


def _suite_check(spec: SourceSpec, name: str, curated_key: AssetKey, home) -> AssetChecksDefinition:
    what = ("rows > 0, provenance and key columns not null, row hash unique, licence open, no residual personal data"
            if name == GENERIC
            else "the expectations declared in the source YAML")

    @asset_check(asset=curated_key, name=f"{name}_suite", blocking=True,
                 description=f"Great Expectations, {name} suite: {what}. Blocks publishing when it fails.")
    def check(warehouse: Warehouse) -> AssetCheckResult:
        with source_lock(home, spec.id, f"check {name}"):
            warehouse.fetch(spec.id, database=False)
            data = load_curated(warehouse.curated(spec.id))
            with measured(f"check {name}") as cost:
                result = run_suite(data, name, suite(spec, name, data.schema))
            record_verdict(data, result)
            footprint = write_compute(data.folder, cost)
            docs = write_docs(data, result)
            warehouse.keep(spec.id, curated=True, written=[verdict_path(data, result.suite), docs, footprint])
        return AssetCheckResult(
            passed=result.success,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "curation": data.id,
                "evaluated_expectations": result.evaluated,
                "successful_expectations": result.successful,
                "unsuccessful_expectations": result.evaluated - result.successful,
                "success_percent": round(100 * result.successful / result.evaluated, 2) if result.evaluated else 0.0,
                "shards": result.shards,
                "rows": result.rows,
                "failures": MetadataValue.json(result.failures),
                **({"failing_values": failing_values(result.failures)} if result.failures else {}),
                "data_docs": MetadataValue.url(docs.as_uri()),
                **cost.metadata(),
            },
        )

    return check

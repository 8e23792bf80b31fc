"""The README.md dataset card: Hub YAML metadata (so the viewer and `load_dataset` need no setup) and a readable body.

A multilingual dataset has one config per language (`data_dir: data/<lang>`) and a default config `all` with every
shard; `dataset_info` is then a list with one entry per config, because `datasets` checks and caches each config by it.
The body tells rows per language, and what curation found of personal data (counts only, never values).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import langcodes
import pyarrow as pa
from huggingface_hub import DatasetCard, DatasetCardData

from ..curate.pii.ner import NO_MODEL
from ..licences import OPEN_LICENCES
from ..spec import SourceSpec
from ..stats import CurationReport, StageCount
from ..urls import public_url
from .shards import ALL_CONFIG, DATA_DIR, DATA_FILES, SPLIT, ShardSet, lang_dir
from .targets import Version

SIZE_BUCKETS = [(10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"),
                (10**7, "1M<n<10M"), (10**8, "10M<n<100M"), (10**9, "100M<n<1B"), (10**10, "1B<n<10B"),
                (10**11, "10B<n<100B"), (10**12, "100B<n<1T")]


def size_category(rows: int) -> str:
    return next((label for bound, label in SIZE_BUCKETS if rows < bound), "n>1T")


def source_location(spec: SourceSpec) -> str:
    """Where the source is: files as the catalog YAML writes their path, other kinds as their kind says (no
    credentials in either)."""
    if spec.files:
        path = spec.files.path
        return public_url(path) if "://" in path else path
    from ..ingest import location

    return location(spec)


def creators(spec: SourceSpec) -> list[str]:
    if spec.attribution is None:
        return []
    creator = spec.attribution.creator
    return [creator] if isinstance(creator, str) else list(creator)


def _attribution_section(spec: SourceSpec) -> list[str]:
    if spec.attribution is None:
        return []
    a = spec.attribution
    lines = [f"Created by {', '.join(creators(spec))}" + (f" (<{a.url}>)." if a.url else "."),
             "Please cite:", "```\n" + a.citation.strip() + "\n```"]
    if OPEN_LICENCES[spec.licence].attribution:
        lines.append(f"The {spec.licence} licence requires this attribution wherever the data is reused.")
    return ["## Attribution", *lines]


_DTYPES = {"double": "float64", "float": "float32", "halffloat": "float16", "date32[day]": "date32",
           "date64[ms]": "date64"}


def feature(name: str | None, dtype: pa.DataType) -> dict:
    """One column in the Hub's `dataset_info.features` YAML (the `datasets` Features notation)."""
    out: dict = {} if name is None else {"name": name}
    if pa.types.is_struct(dtype):
        out["struct"] = [feature(f.name, f.type) for f in dtype]
    elif pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        out["list"] = {k: v for k, v in feature(None, dtype.value_type).items()}
    else:
        out["dtype"] = _DTYPES.get(str(dtype), str(dtype))
    return out


def dataset_info(shards: ShardSet, config: str | None = None) -> dict:
    """Sizes and features as `push_to_hub` writes them: the viewer shows them, and `datasets` keys its cache of a
    local folder on them, so a new version under the same path is not served from the old version's cache."""
    return {**({"config_name": config} if config else {}),
            "features": [feature(f.name, f.type) for f in shards.schema],
            "splits": [{"name": SPLIT, "num_bytes": shards.arrow_bytes, "num_examples": shards.rows}],
            "download_size": shards.bytes, "dataset_size": shards.arrow_bytes}


def configs(shards: ShardSet) -> tuple[list[dict], dict | list[dict]]:
    """The card's `configs` and `dataset_info`: one default config, or `all` (the default) and one per language."""
    if not shards.per_language:
        return [{"config_name": "default", "data_files": [{"split": SPLIT, "path": DATA_FILES}]}], dataset_info(shards)
    every = {"config_name": ALL_CONFIG, "data_files": [{"split": SPLIT, "path": f"{DATA_DIR}/*/{SPLIT}-*"}],
             "default": True}
    langs = shards.languages
    return ([every] + [{"config_name": lang, "data_dir": lang_dir(lang)} for lang in langs],
            [dataset_info(shards, ALL_CONFIG)] + [dataset_info(shards.language(lang), lang) for lang in langs])


def card_data(spec: SourceSpec, shards: ShardSet) -> DatasetCardData:
    rows = shards.rows
    licence = OPEN_LICENCES[spec.licence]
    languages = list(dict.fromkeys(langcodes.Language.get(tag).language for tag in spec.languages))
    extra = {}
    if licence.hub == "other":
        extra = {"license_name": spec.licence.lower(), "license_link": licence.url}
    if languages != spec.languages:
        extra["language_details"] = list(spec.languages)
    config_list, info = configs(shards)
    return DatasetCardData(
        license=licence.hub,
        **extra,
        language=languages,
        multilinguality="monolingual" if len(languages) == 1 else "multilingual",
        pretty_name=spec.title,
        size_categories=[size_category(rows)],
        source_datasets=[public_url(spec.homepage)] if spec.homepage else ["original"],
        tags=[spec.domain.value],
        configs=config_list,
        dataset_info=info,
    )


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _stage_rows(stages: Sequence[StageCount]) -> list[list[object]]:
    rows = []
    for s in stages:
        reasons = ", ".join(f"`{reason}`: {n:,}" for reason, n in sorted(s.removed.items())) or "–"
        rows.append([s.stage, f"{s.rows_in:,}", f"{s.rows_out:,}", f"{sum(s.removed.values()):,}", reasons])
    return rows


def text_sentence(report: CurationReport | None) -> str:
    """Which columns language identification and name detection read, and whether the source declared them."""
    if report is None or not report.text_columns:
        return ""
    columns = ", ".join(f"`{c}`" for c in report.text_columns)
    how = ("found in the data: the source declares none, and these hold natural language (long values, mostly "
           "letters and spaces, mostly lower case)" if report.text_detected else "declared by the source")
    return f"Languages are identified, and names looked for, in the text columns {columns}, {how}."


def _language_section(shards: ShardSet, report: CurationReport | None = None) -> list[str]:
    if not shards.lang_rows:
        return []
    total = shards.rows or 1
    if shards.per_language:
        intro = (f"One config per language, its files under `{DATA_DIR}/<language>/`: `load_dataset(repo, \"fr\")` "
                 f"loads the French rows, `load_dataset(repo)` loads the `{ALL_CONFIG}` config, every language. "
                 "`und` is text whose language could not be identified.")
        header, rows = ["Language", "Config", "Rows", "Share"], [
            [f"`{lang}`", f"`{lang}`", f"{n:,}", f"{n / total:.1%}"] for lang, n in shards.lang_rows]
    else:
        intro = "Rows per language identified (column `_lang`; `und`: not identified)."
        header, rows = ["Language", "Rows", "Share"], [
            [f"`{lang}`", f"{n:,}", f"{n / total:.1%}"] for lang, n in shards.lang_rows]
    return ["## Languages", intro, *([text_sentence(report)] if text_sentence(report) else []), _table(header, rows)]


def ner_sentence(spec: SourceSpec, ner: str) -> str:
    """Which NER backend looked for person names and addresses, or that none did and why."""
    if spec.pii.ner == "off" or ner.strip().lower() in ("", "off"):
        return ("No NER backend looked for person names (PERSON) or addresses (ADDRESS): NER is off for this "
                "source (`pii.ner: off`), so only the pattern types were searched.")
    if re.match(r"(none|no |not |unavailable|missing|off\b)", ner.strip(), re.IGNORECASE):
        return (f"No NER backend looked for person names (PERSON) or addresses (ADDRESS): {ner.strip()}. "
                "Only the pattern types were searched.")
    return f"Person names (PERSON) and addresses (ADDRESS) were looked for by the NER backend {ner.strip()}."


def _personal_data_section(spec: SourceSpec, report: CurationReport | None) -> list[str]:
    if report is None:
        return ["## Personal data", "This version was published without a curation report: what was found of "
                "personal data is not recorded here."]
    found = [p for p in report.pii if p.count]
    table = (_table(["Type", "Column", "Policy", "Found"],
                    [[p.type, f"`{p.column}`", p.policy, f"{p.count:,}"]
                     for p in sorted(found, key=lambda p: (p.type, p.column, p.policy))])
             if found else "No personal data was found.")
    by_language = ([_table(["Language", "Name backend"], [[f"`{lang}`", backend] for lang, backend in
                                                          sorted(report.ner_languages.items())])]
                   if report.ner_languages else [])
    return ["## Personal data",
            "Personal data found in the curated rows, by type and column, and what the source's policy did with it "
            "(counts only).", table, ner_sentence(spec, report.ner),
            *(["### Name detection by language", "Each text goes to the name model of the language it is identified "
               f"as; `{NO_MODEL}`: no model reads that language, name cues and patterns still run.", *by_language]
              if by_language else [])]


def _number(value, digits: int | None = None) -> str:
    """With `digits` decimals, or three significant digits."""
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if digits is not None else f"{value:.3g}"


def _compute_section(report: CurationReport | None, version: str) -> list[str]:
    found = report.compute if report else []
    if not found:
        return []
    rows = [[f["stage"], _number(f.get("seconds"), 1), _number(f.get("cpu_seconds"), 1),
             _number(f.get("peak_rss_mb"), 0), _number(f.get("energy_wh")), _number(f.get("emissions_g"))]
            for f in found]
    countries = sorted({f["country"] for f in found if f.get("country")})
    grid = (f"the carbon intensity of the grid of {', '.join(countries)}" if countries else
            "no grid was given (COMMONS_CARBON_COUNTRY), so emissions are not estimated")
    return ["## Compute",
            f"What making {version} took, stage by stage: wall and CPU time, peak memory, and the energy and emissions "
            "that codecarbon estimates offline (the CPU's and the memory's power over the stage; " + grid + "). "
            "Publishing this version is not counted: it writes this card.",
            _table(["Stage", "Wall (s)", "CPU (s)", "Peak memory (MB)", "Energy (Wh)", "CO₂eq (g)"], rows)]


def _renamed(report: CurationReport | None) -> list[str]:
    if report is None or not report.renamed:
        return []
    pairs = ", ".join(f"`{old}` → `{new}`" for old, new in sorted(report.renamed.items()))
    return [f"Columns renamed on the way in, since a leading `_` is kept for the columns this pipeline adds: {pairs}."]


def render_card(spec: SourceSpec, shards: ShardSet, stages: Sequence[StageCount], history: Sequence[Version],
                report: CurationReport | None = None) -> str:
    """The card for the newest version in `history` (oldest first, the version being published last)."""
    licence = OPEN_LICENCES[spec.licence]
    source = [f"- Source id: `{spec.id}`", f"- Kind: {spec.kind}" + (f" ({spec.files.format})" if spec.files else ""),
              f"- Location: `{source_location(spec)}`"]
    if spec.homepage:
        source.insert(0, f"- Homepage: <{public_url(spec.homepage)}>")
    body = [
        f"# {spec.title}",
        spec.description.strip(),
        "## Source",
        "\n".join(source),
        "## Licence",
        f"[{licence.name}]({licence.url}) (SPDX `{spec.licence}`). Languages: {', '.join(spec.languages)}. "
        f"Domain: {spec.domain.value}." + (" Each row's own licence is in the column `_licence` (a portal's "
                                           "datasets may differ); only open licences are published."
                                           if spec.kind in ("ckan", "udata") else ""),
        *_attribution_section(spec),
        "## Processing",
        "Rows entering and leaving each stage, and every reason rows were removed.",
        _table(["Stage", "Rows in", "Rows out", "Removed", "Removed by reason"], _stage_rows(stages)),
        *_language_section(shards, report),
        *_personal_data_section(spec, report),
        *_compute_section(report, history[-1].name if history else "this version"),
        "## Data",
        f"{shards.rows:,} rows in {len(shards.shards)} Parquet file(s) under "
        f"`{DATA_DIR}/{'<language>/' if shards.per_language else ''}` (zstd, page index, "
        "content-defined chunking); their sha256 checksums are in `croissant.json`.",
        _table(["Column", "Arrow type"], [[f"`{f.name}`", f"`{f.type}`"] for f in shards.schema]),
        *_renamed(report),
        "## Versions",
        "Each version is a tag (`v1`, `v2`, …) on the Hub, or a folder under `versions/` locally; a new version is "
        "published only when the data changed: its identity is the sha256 of the schema and of every row's "
        "`_row_sha256` in order, so new files with the same rows publish nothing. Rows erased on request are "
        "counted here with the reason given, never shown.",
        _table(["Version", "Date", "Rows", "Identity", "Changes"],
               [[v.name, v.date[:10], f"{v.rows:,}", f"`{v.content_sha256[:12]}`", v.changelog or "–"]
                for v in reversed(history)]),
    ]
    content = f"---\n{card_data(spec, shards).to_yaml()}\n---\n\n" + "\n\n".join(body) + "\n"
    DatasetCard(content)  # fails loudly if the metadata block would not parse on the Hub
    return content

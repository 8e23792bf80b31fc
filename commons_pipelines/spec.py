"""SourceSpec: one YAML file per source, validated when it is loaded."""

from __future__ import annotations

import codecs
import json
import os
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import langcodes
import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from .licences import OPEN_LICENCES
from .settings import allow_local_urls, data_roots
from .urls import SCHEMES, UrlError, check_url, scheme, url_host

CATALOG_DIR = Path(__file__).parent / "catalog"
CATALOG_ENV = "COMMONS_CATALOG"


def catalog_folder() -> Path:
    """The catalog in use: COMMONS_CATALOG, or the one shipped in the package."""
    return Path(os.environ.get(CATALOG_ENV) or CATALOG_DIR)
MAX_YAML_BYTES = 1 << 20
MAX_YAML_DEPTH = 50

SourceId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")]


class SpecError(ValueError):
    """A source YAML that cannot be used; the message names the file and the field."""


class Domain(str, Enum):
    education = "education"
    health = "health"
    care = "care"
    science = "science"
    culture = "culture"
    government = "government"
    environment = "environment"
    economy = "economy"
    general = "general"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CsvOptions(Strict):
    delimiter: str = Field(",", min_length=1, max_length=1)
    header: bool = True
    columns: list[str] | None = None
    encoding: str = "utf-8"
    quote_char: str | None = Field('"', max_length=1)

    @model_validator(mode="after")
    def _names(self) -> CsvOptions:
        if not self.header and not self.columns:
            raise ValueError("a file without a header needs 'columns' (the column names, in order)")
        if self.columns and len(set(self.columns)) != len(self.columns):
            raise ValueError("'columns' has a name twice")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {self.encoding!r} (write e.g. utf-8, latin-1, cp1252)") from None
        return self


def _http_url(value: str) -> str:
    if scheme(value) not in SCHEMES:
        raise ValueError(f"{value!r} is not an http(s) URL")
    url_host(value)
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
EnvName = Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="the name of an environment variable")]
RecordPath = Annotated[str, Field(pattern=r"^[^.\s]+(\.[^.\s]+)*$", description="dotted keys to the records: "
                                                                                   "'value', 'data.items'")]


class FilesConfig(Strict):
    kind: Literal["files"] = "files"
    path: str = Field(description="a local folder or file, or an http(s) URL; relative paths start at the YAML's folder")
    glob: str = Field("*", min_length=1)
    format: Literal["csv", "tsv", "jsonl", "json", "parquet"]
    record_path: RecordPath | None = Field(None, description="json: where the array of records is in the document; "
                                                             "default the document itself")
    compression: Literal["auto", "none", "gzip", "zstd"] = "auto"
    csv: CsvOptions = CsvOptions()

    @property
    def is_remote(self) -> bool:
        return scheme(self.path) in SCHEMES

    @field_validator("path")
    @classmethod
    def _url_or_path(cls, value: str) -> str:
        if scheme(value):
            url_host(value)
        elif re.search(r"[\x00-\x1f\x7f]", value):
            raise ValueError("control characters are not allowed in a path")
        return value

    @field_validator("glob")
    @classmethod
    def _glob_inside_path(cls, value: str) -> str:
        if value.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", value):
            raise ValueError(f"{value!r}: a glob is relative to 'path' and may not contain '..'")
        return value

    @model_validator(mode="after")
    def _remote_is_one_file(self) -> FilesConfig:
        if self.is_remote and self.glob != "*":
            raise ValueError("http(s) has no file listing: give one file's URL in 'path' and no 'glob'")
        if self.record_path and self.format != "json":
            raise ValueError("'record_path' is for format 'json'")
        return self


class Auth(Strict):
    """Credentials are never in the YAML: it names the environment variables that hold them."""
    type: Literal["bearer", "api_key", "http_basic"]
    token_env: EnvName | None = Field(None, description="bearer: the token; api_key: the key")
    name: str = Field("Authorization", description="api_key: the header or query parameter")
    location: Literal["header", "query"] = "header"
    username_env: EnvName | None = None
    password_env: EnvName | None = None

    @model_validator(mode="after")
    def _names(self) -> Auth:
        need = {"bearer": ["token_env"], "api_key": ["token_env"], "http_basic": ["username_env", "password_env"]}
        missing = [n for n in need[self.type] if getattr(self, n) is None]
        if missing:
            raise ValueError(f"auth type {self.type!r} needs {', '.join(missing)}")
        return self


class Incremental(Strict):
    """Only records past the last cursor value are asked for; the value is kept with the landed records."""
    cursor_path: RecordPath = Field(description="the field of each record that grows (a date, an id)")
    start_param: str = Field(description="the query parameter that is given the last value")
    initial_value: str | int | None = Field(None, description="the value of the first run")


PAGINATORS = ("auto", "single_page", "json_link", "header_link", "page_number", "offset", "cursor")


class Endpoint(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    path: str = Field(description="relative to base_url")
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str | int | float | bool] = {}
    json_body: dict[str, Any] | None = Field(None, alias="json", description="POST: the JSON body (a GraphQL query)")
    record_path: RecordPath | None = Field(None, description="where the records are in each response (dlt's "
                                                             "data_selector); default: found by dlt")
    paginator: str | dict[str, Any] = Field("auto", description="dlt's paginator: a type name or {type: ..., ...}")
    incremental: Incremental | None = None

    @field_validator("paginator")
    @classmethod
    def _paginator(cls, value: str | dict) -> str | dict:
        name = value if isinstance(value, str) else value.get("type")
        if name not in PAGINATORS:
            raise ValueError(f"unknown paginator {name!r}; allowed: {', '.join(PAGINATORS)}")
        return value


class RestApiConfig(Strict):
    """A REST API read with dlt's declarative REST source: one unit per resource."""
    kind: Literal["rest_api"] = "rest_api"
    base_url: HttpUrl
    headers: dict[str, str] = {}
    auth: Auth | None = None
    resources: list[Endpoint] = Field(min_length=1)
    max_pages: int | None = Field(None, ge=1, description="a bound on the pages read per resource")

    @model_validator(mode="after")
    def _unique(self) -> RestApiConfig:
        names = [r.name for r in self.resources]
        if len(set(names)) != len(names):
            raise ValueError("two resources have the same name")
        return self


class SqlIncremental(Strict):
    cursor: str = Field(description="a column that grows (updated_at, id)")
    initial_value: str | int | None = None


class SqlConfig(Strict):
    """Any database SQLAlchemy reaches, read with dlt's sql_database: tables, or one query."""
    kind: Literal["sql"] = "sql"
    url: str | None = Field(None, description="a SQLAlchemy URL without a password (sqlite:///relative/file.db)")
    url_env: EnvName | None = Field(None, description="the environment variable holding the URL with credentials")
    db_schema: str | None = Field(None, alias="schema")
    tables: list[str] = []
    query: str | None = Field(None, description="one SELECT, landed as the unit 'query'")
    incremental: SqlIncremental | None = None
    chunk_size: int = Field(50_000, ge=1)

    @model_validator(mode="after")
    def _one_of(self) -> SqlConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of 'url' and 'url_env'")
        if bool(self.tables) == (self.query is not None):
            raise ValueError("give exactly one of 'tables' and 'query'")
        if self.url and re.match(r"^[^:/]+(\+[^:/]+)?://[^/@]*:[^/@]*@", self.url):
            raise ValueError("the URL holds a password: put the whole URL in an environment variable and name it "
                             "in 'url_env'")
        return self


class PortalResources(Strict):
    """The resource files of matching datasets, read with the `files` readers."""
    formats: list[str] = Field(min_length=1, description="resource formats as the portal writes them: CSV, JSON ...")
    format: Literal["csv", "tsv", "jsonl", "json", "parquet"]
    record_path: RecordPath | None = None
    csv: CsvOptions = CsvOptions()
    max_files: int = Field(50, ge=1)


class PortalConfig(Strict):
    url: HttpUrl = Field(description="the portal's address, e.g. https://www.data.gouv.fr")
    query: str | None = Field(None, description="full-text search")
    organizations: list[str] = []
    tags: list[str] = []
    licences: list[str] = Field([], description="portal licence ids accepted; default: every one that maps to an "
                                                "open licence. Datasets under another licence are skipped and counted")
    page_size: int = Field(100, ge=1, le=1000)
    max_datasets: int | None = Field(None, ge=1)
    datasets: bool = Field(True, description="land each dataset's metadata as a record")
    resources: PortalResources | None = None

    @model_validator(mode="after")
    def _something(self):
        if not self.datasets and self.resources is None:
            raise ValueError("nothing to land: set 'datasets: true' or 'resources'")
        return self


class CkanConfig(PortalConfig):
    kind: Literal["ckan"] = "ckan"
    fq: str | None = Field(None, description="a Solr filter query for package_search")


class UdataConfig(PortalConfig):
    kind: Literal["udata"] = "udata"


class HfDatasetConfig(Strict):
    """The Parquet files of a dataset repository on the Hub."""
    kind: Literal["hf_dataset"] = "hf_dataset"
    repo_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")]
    revision: str = "main"
    config: str | None = Field(None, description="default: every config")
    split: str | None = Field(None, description="default: every split")
    endpoint: HttpUrl | None = Field(None, description="default: HF_ENDPOINT, else https://huggingface.co")


KindConfig = Annotated[FilesConfig | RestApiConfig | SqlConfig | CkanConfig | UdataConfig | HfDatasetConfig,
                       Field(discriminator="kind")]
KINDS = ("files", "rest_api", "sql", "ckan", "udata", "hf_dataset")


class Attribution(Strict):
    """Who made the data and how to cite it: on the card and in croissant.json (CC-BY and the like require it)."""
    creator: str | list[str] = Field(description="the organisation or people who made the data")
    citation: str = Field(min_length=10, description="how to cite the data")
    url: HttpUrl | None = None


class Expectation(Strict):
    type: Annotated[str, Field(pattern=r"^expect_[a-z0-9_]+$")]
    kwargs: dict[str, Any] = {}


PII_TYPES = ("EMAIL", "PHONE", "IBAN", "NATIONAL_ID", "CARD", "IP", "URL_CREDENTIALS", "PERSON", "ADDRESS")
"""Every kind of personal data the project detects: one list, used by the spec, the PII step, the checks and the card."""
PATTERN_PII = PII_TYPES[:7]
"""Found by patterns and checksums, always available; PERSON and ADDRESS need the optional NER backend."""

PiiType = Literal[PII_TYPES]
PiiPolicy = Literal["redact", "pseudonymize", "drop_row", "drop_column", "keep"]


class NormalizeConfig(Strict):
    """Text normalisation of every string column."""
    unicode_form: Literal["NFC", "NFKC", "none"] = "NFC"
    fix_mojibake: bool = True
    whitespace: bool = Field(True, description="strip, collapse runs of spaces, drop control characters; keeps newlines")


class LanguageConfig(Strict):
    columns: list[str] | None = Field(None, description="columns read together to identify a row's language; default text_columns")
    threshold: float = Field(0.5, ge=0, le=1, description="below this score the language is 'und'")
    second: bool = Field(True, description="also write _lang2 and _lang2_share for mixed-language texts")
    configs: bool | None = Field(None, description="one Hub config per language; default: when the source lists several languages")


class PiiConfig(Strict):
    policy: PiiPolicy = Field("redact", description="what happens to personal data found in any string column")
    types: dict[PiiType, PiiPolicy] = Field({}, description="a policy per type, over the default policy")
    columns: dict[str, PiiPolicy] = Field({}, description="a policy per column, over type and default; 'keep' states the column is public")
    regions: list[str] = Field([], description="ISO 3166 regions for national phone formats; default: from the source's languages")
    ner: Literal["auto", "off", "required"] = Field("auto", description="person names and addresses via the optional NER extra")

    @model_validator(mode="after")
    def _drop_column_is_per_column(self) -> PiiConfig:
        if self.policy == "drop_column" or "drop_column" in self.types.values():
            raise ValueError("'drop_column' names a column: use it under 'columns', not as 'policy' or in 'types'")
        bad = [r for r in self.regions if not re.fullmatch(r"[A-Z]{2}", r)]
        if bad:
            raise ValueError(f"regions must be ISO 3166 alpha-2 codes like 'FR': {', '.join(bad)}")
        return self


class NearDedupConfig(Strict):
    threshold: float = Field(0.8, gt=0, le=1, description="estimated Jaccard similarity of word shingles above which two texts are near duplicates")
    num_perm: int = Field(128, ge=16, le=1024)
    shingle: int = Field(5, ge=1, le=20, description="words per shingle")


class DedupConfig(Strict):
    columns: list[str] | None = Field(None, description="the text compared; by default none: only identical rows merge, "
                                                        "so records with different keys or values never do")
    exact: bool = True
    against_published: bool = Field(True, description="among duplicates keep the copy already published, not the "
                                                      "first in source order")
    near: NearDedupConfig | None = NearDedupConfig()


class QualityConfig(Strict):
    """Gopher / C4 style document filters; a rule set to null is off. Word counts split on whitespace."""
    columns: list[str] | None = Field(None, description="default text_columns")
    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=1)
    min_mean_word_length: float | None = Field(None, ge=0)
    max_mean_word_length: float | None = Field(None, ge=0)
    max_symbol_ratio: float | None = Field(None, ge=0, description="'#' and '...' per word (Gopher: 0.1)")
    max_digit_ratio: float | None = Field(None, ge=0, le=1, description="digits per character")
    min_alpha_words: float | None = Field(None, ge=0, le=1, description="share of words with a letter (Gopher: 0.8)")
    max_duplicate_lines: float | None = Field(None, ge=0, le=1, description="share of lines that repeat another line (Gopher: 0.3)")
    max_top_ngram: float | None = Field(None, ge=0, le=1, description="share of characters in the most frequent word 2-gram (Gopher: 0.2)")
    max_duplicate_ngrams: float | None = Field(None, ge=0, le=1, description="share of characters in repeated word 5-grams (Gopher: 0.15)")
    boilerplate: bool = Field(False, description="drop C4 boilerplate lines (cookies, javascript, terms of use, lorem ipsum)")


class PublishConfig(Strict):
    repo_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")]
    private: bool = False


Owner = Annotated[str, Field(pattern=r"^(team:\S+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,7})$",
                             description="an e-mail address or 'team:name' (Dagster's rule)")]


DATE_PATTERN = r"(?<!\d)(?P<year>\d{4})(?P<sep>-?)(?P<month>\d{2})(?P=sep)(?P<day>\d{2})(?!\d)"
"""The first YYYY-MM-DD or YYYYMMDD in a path that is a real date (not inside a longer run of digits)."""


class Partitioning(Strict):
    """`partitions: {by: file}` or `{by: date, pattern: ...}`: Dagster dynamic partitions, one per landed file or
    per day (`partitions: 8`, a number, is 8 partitions by a hash of the file's name)."""
    by: Literal["file", "date"]
    pattern: str | None = Field(None, description="by date: a regular expression with the groups `year`, `month` "
                                                  "and `day`, searched in each file's path (default: the first "
                                                  "YYYY-MM-DD or YYYYMMDD)")

    @model_validator(mode="after")
    def _pattern(self) -> Partitioning:
        if self.by == "file":
            if self.pattern is not None:
                raise ValueError("'pattern' is for `by: date` only")
            return self
        try:
            groups = set(re.compile(self.pattern or DATE_PATTERN).groupindex)
        except re.error as err:
            raise ValueError(f"'pattern' {self.pattern!r} is not a regular expression: {err}") from None
        if missing := {"year", "month", "day"} - groups:
            raise ValueError(f"'pattern' {self.pattern!r} needs the named groups year, month and day "
                             f"(missing: {', '.join(sorted(missing))}), e.g. "
                             r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})")
        return self


class SourceSpec(Strict):
    id: SourceId
    title: str = Field(min_length=3)
    description: str = Field(min_length=10)
    homepage: str | None = None
    licence: str
    languages: list[str] = Field(min_length=1)
    domain: Domain
    kind: Literal[KINDS]
    config: KindConfig = Field(description="the block named after the kind (`files:`, `rest_api:` ...)")
    attribution: Attribution | None = None
    where: str | None = Field(None, description="a DuckDB SQL predicate on the landed records: only rows where it "
                                                "holds go on (e.g. `license = 'CC BY'`); the others are counted")
    text_columns: list[str] = []
    primary_key: list[str] = []
    expectations: list[Expectation] = []
    normalize: NormalizeConfig = NormalizeConfig()
    language: LanguageConfig = LanguageConfig()
    pii: PiiConfig = PiiConfig()
    dedup: DedupConfig = DedupConfig()
    quality: QualityConfig = QualityConfig()
    partitions: Annotated[int, Field(ge=2, le=256)] | Partitioning | None = Field(
        None, description="curate a large source in partitions, each a Dagster partition of the source's `staged` "
                          "asset, reused while its files are unchanged; dedup runs over them all. A number: that many "
                          "partitions by a hash of the landed file's name; `{by: file}`: one per landed file; "
                          "`{by: date}`: one per day found in the files' paths")
    publish: PublishConfig
    schedule: str | None = Field(None, description="cron; the source then runs on its own schedule, not in nightly")
    owners: list[Owner] = Field([], description="who answers for the source, shown in the UI: e-mails or 'team:name'")
    columns: dict[str, str] = Field({}, description="a description per column, shown in the UI")
    origin: Path | None = Field(None, exclude=True, description="the YAML file this spec was loaded from")

    @field_validator("partitions", mode="before")
    @classmethod
    def _partitions(cls, value: Any) -> Any:
        """One clear message instead of one per member of the union."""
        if value is None or isinstance(value, Partitioning):
            return value
        if isinstance(value, dict):
            try:
                return Partitioning.model_validate(value)
            except ValidationError as err:
                raise ValueError("; ".join(".".join(map(str, e["loc"])) + (": " if e["loc"] else "")
                                           + e["msg"].removeprefix("Value error, ") for e in err.errors())) from None
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 256:
            raise ValueError(f"{value!r}: write a number of partitions by hash (2 to 256), {{by: file}} or "
                             "{by: date} (with an optional `pattern`)")
        return value

    @field_validator("licence")
    @classmethod
    def _open_licence(cls, value: str) -> str:
        if value not in OPEN_LICENCES:
            raise ValueError(f"{value!r} is not an open licence; allowed: {', '.join(OPEN_LICENCES)}")
        return value

    @field_validator("languages")
    @classmethod
    def _bcp47(cls, value: list[str]) -> list[str]:
        bad = [tag for tag in value if not langcodes.tag_is_valid(tag)]
        if bad:
            raise ValueError(f"not BCP-47 language tags: {', '.join(bad)} (write e.g. 'en', 'fr', 'pt-BR')")
        return [langcodes.standardize_tag(tag) for tag in value]

    @field_validator("expectations", mode="before")
    @classmethod
    def _expectation_shorthand(cls, value: Any) -> Any:
        """Accept `- expect_x: {column: a}` as well as `- {type: expect_x, kwargs: {column: a}}`."""
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            if isinstance(item, dict) and len(item) == 1 and "type" not in item:
                (name, kwargs), = item.items()
                item = {"type": name, "kwargs": kwargs or {}}
            out.append(item)
        return out

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"(\S+\s+){4}\S+", value.strip()):
            raise ValueError(f"{value!r} is not a cron expression with five fields")
        return value

    @model_validator(mode="after")
    def _ner_reads_text_columns(self) -> SourceSpec:
        if self.pii.ner == "required" and not self.text_columns:
            raise ValueError("pii.ner 'required' needs text_columns: names and addresses are looked for there")
        return self

    @model_validator(mode="before")
    @classmethod
    def _kind_block(cls, data: Any) -> Any:
        """`kind: x` and its block `x: {...}` become the discriminated `config`."""
        if not isinstance(data, dict) or "config" in data:
            return data
        kind = data.get("kind")
        if kind not in KINDS:
            return data
        if not isinstance(data.get(kind), dict):
            raise ValueError(f"kind {kind!r} needs a '{kind}:' block with its settings")
        data = dict(data)
        data["config"] = {**data.pop(kind), "kind": kind}
        return data

    @model_validator(mode="after")
    def _attributed(self) -> SourceSpec:
        if OPEN_LICENCES[self.licence].attribution and self.attribution is None:
            raise ValueError(f"{self.licence} requires attribution: add 'attribution: {{creator: ..., citation: ...}}'")
        return self

    @field_validator("where")
    @classmethod
    def _predicate(cls, value: str | None) -> str | None:
        if value is not None:
            check_predicate(value)
        return value

    @property
    def files(self) -> FilesConfig | None:
        return self.config if isinstance(self.config, FilesConfig) else None

    @property
    def needs_network(self) -> bool:
        """Whether ingest reaches another machine (offline runs skip these sources)."""
        if isinstance(self.config, FilesConfig):
            return self.config.is_remote
        if isinstance(self.config, SqlConfig):
            return not (self.config.url or "").startswith("sqlite")
        return True

    @property
    def root(self) -> Path:
        return self.origin.parent if self.origin else Path.cwd()

    def files_location(self) -> str:
        """The files' location as an fsspec URL: remote as written, local made absolute from the YAML's folder."""
        path = self.files.path
        if self.files.is_remote:
            return path
        return str((self.root / path).resolve())


def _field_path(loc: tuple) -> str:
    if len(loc) >= 2 and loc[0] == "config":  # config.<kind>.field is written <kind>.field in the YAML
        loc = loc[1:]
    return ".".join(str(p) for p in loc if not str(p).startswith("function-")) or "(top level)"


def check_predicate(text: str) -> None:
    """A `where:` predicate must parse as one DuckDB expression (it is also run without file or network access)."""
    import duckdb

    if ";" in text:
        raise ValueError("a 'where' predicate is one expression, without ';'")
    with duckdb.connect() as con:
        parsed = json.loads(con.execute("select json_serialize_sql(?)", [f"select 1 from t where ({text})"]).fetchone()[0])
    if parsed.get("error") or len(parsed.get("statements", [])) != 1:
        raise ValueError(f"not a DuckDB SQL predicate: {parsed.get('error_message', 'more than one statement')}")


def allowed_roots(origin: Path | str) -> tuple[Path, ...]:
    """Where a source's local files may be: the folder holding its catalog folder, and the COMMONS_DATA_ROOTS."""
    return Path(origin).absolute().parent.resolve().parent, *data_roots()


def inside_roots(path: Path | str, roots: tuple[Path, ...]) -> bool:
    """Whether `path`, symlinks and '..' resolved, lies in one of `roots`."""
    real = Path(path).resolve()
    return any(real.is_relative_to(root) for root in roots)


def _check_location(spec: SourceSpec, origin: Path) -> None:
    files, field = spec.files, f"{origin}: field 'files.path'"
    if files.is_remote:
        try:
            check_url(files.path, allow_local_urls())
        except UrlError as err:
            raise SpecError(f"{field}: {err}") from None
        return
    roots = allowed_roots(origin)
    try:
        location = Path(spec.files_location())
        inside = inside_roots(location, roots)
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
        raise SpecError(f"{field}: {files.path!r} cannot be resolved: {err}") from None
    if not inside:
        real = "" if str(location) == files.path else f" ({location})"
        raise SpecError(f"{field}: {files.path!r}{real} is outside the allowed roots "
                        f"({', '.join(map(str, roots))}); add a root to COMMONS_DATA_ROOTS")


def parse_spec(data: Any, origin: Path | str) -> SourceSpec:
    origin = Path(origin)
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: expected a mapping of fields, got {type(data).__name__}")
    try:
        spec = SourceSpec.model_validate({**data, "origin": origin})
    except ValidationError as err:
        problems = [f"field '{_field_path(e['loc'])}': {e['msg'].removeprefix('Value error, ')}"
                    + (f" (got {e['input']!r})" if e["type"] in {"literal_error", "enum", "string_pattern_mismatch"} else "")
                    for e in err.errors()]
        raise SpecError(f"{origin}: " + "; ".join(problems)) from None
    if spec.id != origin.stem:
        raise SpecError(f"{origin}: field 'id': {spec.id!r} must match the file name {origin.stem!r}")
    if spec.files:
        _check_location(spec, origin)
    return spec


class _Refused(Exception):
    pass


class _Loader(yaml.SafeLoader):
    """safe_load without anchors and aliases: nested aliases expand exponentially when read (billion laughs)."""
    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(f"YAML anchors and aliases (&name, *name) are not allowed (line {line})")
        if self.depth >= MAX_YAML_DEPTH:
            raise _Refused(f"nested deeper than {MAX_YAML_DEPTH} levels (line {line})")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def read_yaml(path: Path) -> Any:
    """A source YAML's content; SpecError when it is not a regular file, too large, or not plain YAML."""
    try:
        if not path.is_file():
            raise SpecError(f"{path}: not a regular file")
        with open(path, "rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
    except OSError as err:
        raise SpecError(f"{path}: cannot be read: {err.strerror or err}") from None
    if len(raw) > MAX_YAML_BYTES:
        raise SpecError(f"{path}: larger than {MAX_YAML_BYTES / 2**20:g} MiB, the most a source YAML may be")
    try:
        loader = _Loader(raw.decode("utf-8"))
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except UnicodeDecodeError as err:
        raise SpecError(f"{path}: not UTF-8 (byte {err.start})") from None
    except _Refused as err:
        raise SpecError(f"{path}: {err}") from None
    except (yaml.YAMLError, ValueError) as err:  # ValueError: e.g. an integer of more than 4300 digits
        raise SpecError(f"{path}: not valid YAML: {err}") from None


def load_spec(path: Path | str) -> SourceSpec:
    path = Path(path)
    return parse_spec(read_yaml(path), path)


def load_catalog(folder: Path | str = CATALOG_DIR) -> dict[str, SourceSpec]:
    """Every source in `folder`; the first broken file raises SpecError."""
    specs = [load_spec(p) for p in sorted(Path(folder).glob("*.yaml"))]
    return {s.id: s for s in specs}


def scan_catalog(folder: Path | str = CATALOG_DIR) -> tuple[dict[str, SourceSpec], dict[str, str]]:
    """Every source in `folder` that loads, by id, and the error of each file that does not, by file name (stem):
    one broken file never hides the others."""
    specs: dict[str, SourceSpec] = {}
    errors: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            spec = load_spec(path)
        except SpecError as err:
            errors[path.stem] = str(err)
        except Exception as err:  # a bug met by one file must not stop the catalog either
            errors[path.stem] = f"{path}: {type(err).__name__}: {err}"
        else:
            specs[spec.id] = spec
    return specs, errors


def offline_split(specs: dict[str, SourceSpec], offline: bool) -> tuple[dict[str, SourceSpec], dict[str, str]]:
    """Offline (COMMONS_OFFLINE=1, as `make run` sets it), the sources that need the network are left out: the
    sources kept, and a line for each one left out saying why."""
    if not offline:
        return specs, {}
    from .ingest import location

    skipped = {i: f"{i}: skipped offline: it reads {location(s)}; run it with the network, without COMMONS_OFFLINE"
               for i, s in specs.items() if s.needs_network}
    return {i: s for i, s in specs.items() if i not in skipped}, skipped

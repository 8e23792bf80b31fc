"""SourceSpec: one YAML file per source, validated when it is loaded."""

from __future__ import annotations

import codecs
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import langcodes
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .licences import OPEN_LICENCES

CATALOG_DIR = Path(__file__).parent / "catalog"

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


class FilesConfig(Strict):
    path: str = Field(description="a local folder or file, or an http(s) URL; relative paths start at the YAML's folder")
    glob: str = "*"
    format: Literal["csv", "tsv", "jsonl", "parquet"]
    compression: Literal["auto", "none", "gzip", "zstd"] = "auto"
    csv: CsvOptions = CsvOptions()

    @property
    def is_remote(self) -> bool:
        return self.path.startswith(("http://", "https://"))

    @model_validator(mode="after")
    def _remote_is_one_file(self) -> FilesConfig:
        if self.is_remote and self.glob != "*":
            raise ValueError("http(s) has no file listing: give one file's URL in 'path' and no 'glob'")
        return self


class Expectation(Strict):
    type: Annotated[str, Field(pattern=r"^expect_[a-z0-9_]+$")]
    kwargs: dict[str, Any] = {}


class PublishConfig(Strict):
    repo_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")]
    private: bool = False


class SourceSpec(Strict):
    id: SourceId
    title: str = Field(min_length=3)
    description: str = Field(min_length=10)
    homepage: str | None = None
    licence: str
    languages: list[str] = Field(min_length=1)
    domain: Domain
    kind: Literal["files"]
    files: FilesConfig | None = None
    text_columns: list[str] = []
    primary_key: list[str] = []
    expectations: list[Expectation] = []
    publish: PublishConfig
    schedule: str | None = Field(None, description="cron; the source then runs on its own schedule, not in nightly")
    origin: Path | None = Field(None, exclude=True, description="the YAML file this spec was loaded from")

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
    def _kind_settings(self) -> SourceSpec:
        if getattr(self, self.kind) is None:
            raise ValueError(f"kind {self.kind!r} needs a '{self.kind}:' block with its settings")
        return self

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
    return ".".join(str(p) for p in loc if not str(p).startswith("function-")) or "(top level)"


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
    return spec


def load_spec(path: Path | str) -> SourceSpec:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from None
    return parse_spec(data, path)


def load_catalog(folder: Path | str = CATALOG_DIR) -> dict[str, SourceSpec]:
    specs = [load_spec(p) for p in sorted(Path(folder).glob("*.yaml"))]
    return {s.id: s for s in specs}

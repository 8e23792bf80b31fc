"""Counts that every stage reports the same way: rows in, rows out, rows removed by reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class StageCount:
    stage: str
    rows_in: int = 0
    rows_out: int = 0
    removed: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"stage": self.stage, "rows_in": self.rows_in, "rows_out": self.rows_out,
                "removed": dict(sorted(self.removed.items()))}

    @classmethod
    def from_dict(cls, data: dict) -> StageCount:
        return cls(data["stage"], data["rows_in"], data["rows_out"], Counter(data.get("removed", {})))


@dataclass(frozen=True)
class PiiCount:
    """Personal data of one type found in one column, and what the source's policy did with it."""
    type: str
    column: str
    policy: str
    count: int


NER_LANGUAGE = "NER_LANGUAGE"
"""The PII step reports, per language its name backend met, which backend ran as PiiCount(NER_LANGUAGE, language,
backend, texts); the report keeps these apart, in `ner_languages`."""


@dataclass
class CurationReport:
    """What curation found beyond row counts; it reaches the Dagster metadata and the dataset card."""
    pii: list[PiiCount] = field(default_factory=list)
    ner: str = "off"  # the NER backend that looked for names and addresses, or why none did
    erased: dict[str, int] = field(default_factory=dict)  # rows removed by the takedown list, per reason
    previous: dict = field(default_factory=dict)  # against the published version: {version, kept, added, removed}
    renamed: dict[str, str] = field(default_factory=dict)  # input columns renamed off the reserved '_' prefix
    warnings: list[str] = field(default_factory=list)
    compute: list[dict] = field(default_factory=list)  # footprint.Footprint of each stage that made the version
    ner_languages: dict[str, str] = field(default_factory=dict)  # language -> the name backend that ran on its texts
    text_columns: list[str] = field(default_factory=list)  # the columns language ID and name detection read
    text_detected: bool = False  # True: the source declares none and curate/text.py found them in the data

    def __post_init__(self) -> None:
        self.ner_languages = {**self.ner_languages, **{p.column: p.policy for p in self.pii if p.type == NER_LANGUAGE}}
        self.pii = [p for p in self.pii if p.type != NER_LANGUAGE]

    def as_dict(self) -> dict:
        return {"pii": [vars(p) for p in self.pii], "ner": self.ner, "erased": self.erased,
                "previous": self.previous, "renamed": self.renamed, "warnings": self.warnings,
                "compute": self.compute, "ner_languages": self.ner_languages, "text_columns": self.text_columns,
                "text_detected": self.text_detected}

    @classmethod
    def from_dict(cls, data: dict) -> CurationReport:
        return cls([PiiCount(**p) for p in data.get("pii", [])], data.get("ner", "off"), data.get("erased", {}),
                   data.get("previous", {}), data.get("renamed", {}), data.get("warnings", []),
                   data.get("compute", []), data.get("ner_languages", {}), data.get("text_columns", []),
                   data.get("text_detected", False))

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

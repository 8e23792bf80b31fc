"""Personal data: pattern and checksum detectors (always available) and the `Pii` curation step.

`scan` and `contains` work on whole Arrow string arrays; `Pii` applies a source's PiiConfig to every string
column. Person names and addresses come from the optional NER backend (pii/ner.py), passed to `Pii` as `ner`.
"""

from __future__ import annotations

from .detect import Match, contains, default_regions, scan
from .step import Pii

__all__ = ["Match", "Pii", "contains", "default_regions", "scan"]

"""The one Definitions object (workspace.yaml points here): every source in the catalog."""

from .orchestration import build_definitions
from .settings import Settings
from .spec import load_catalog

defs = build_definitions(load_catalog(), Settings.from_env())

"""The one Definitions object (workspace.yaml points here): every source in the catalog; a source whose YAML does
not load shows its error in the UI instead of hiding the others."""

from .orchestration import build_definitions
from .settings import Settings
from .spec import catalog_folder, offline_split, scan_catalog

_settings = Settings.from_env()
_specs, _broken = scan_catalog(catalog_folder())
_specs, _skipped = offline_split(_specs, _settings.offline)
defs = build_definitions(_specs, _settings, _broken)

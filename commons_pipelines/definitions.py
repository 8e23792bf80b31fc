"""The one Definitions object (workspace.yaml points here): every source in the catalog; a source whose YAML does
not load shows its error in the UI instead of hiding the others."""

from .orchestration import build_definitions
from .settings import Settings
from .spec import catalog_folder, scan_catalog

_specs, _broken = scan_catalog(catalog_folder())
defs = build_definitions(_specs, Settings.from_env(), _broken)

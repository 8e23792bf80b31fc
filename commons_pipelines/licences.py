"""The one list of licences a commons may publish under.

Keys are SPDX ids (as written in a source YAML); `hub` is the Hugging Face Hub's licence id for the card.
"""

from typing import NamedTuple


class Licence(NamedTuple):
    name: str
    hub: str
    url: str
    attribution: bool = False  # the licence requires crediting the creator: the source YAML must say whom


OPEN_LICENCES: dict[str, Licence] = {
    "CC0-1.0": Licence("Creative Commons Zero 1.0", "cc0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "CC-PDM-1.0": Licence("Public Domain Mark 1.0 (no known copyright)", "other", "https://creativecommons.org/publicdomain/mark/1.0/"),
    "PDDL-1.0": Licence("Open Data Commons Public Domain Dedication", "pddl", "https://opendatacommons.org/licenses/pddl/1-0/"),
    "CC-BY-4.0": Licence("Creative Commons Attribution 4.0", "cc-by-4.0", "https://creativecommons.org/licenses/by/4.0/", True),
    "CC-BY-3.0": Licence("Creative Commons Attribution 3.0", "cc-by-3.0", "https://creativecommons.org/licenses/by/3.0/", True),
    "CC-BY-SA-4.0": Licence("Creative Commons Attribution-ShareAlike 4.0", "cc-by-sa-4.0", "https://creativecommons.org/licenses/by-sa/4.0/", True),
    "CC-BY-SA-3.0": Licence("Creative Commons Attribution-ShareAlike 3.0", "cc-by-sa-3.0", "https://creativecommons.org/licenses/by-sa/3.0/", True),
    "ODC-By-1.0": Licence("Open Data Commons Attribution 1.0", "odc-by", "https://opendatacommons.org/licenses/by/1-0/", True),
    "ODbL-1.0": Licence("Open Database License 1.0", "odbl", "https://opendatacommons.org/licenses/odbl/1-0/", True),
    "etalab-2.0": Licence("Licence Ouverte / Open Licence 2.0 (Etalab)", "etalab-2.0", "https://www.etalab.gouv.fr/licence-ouverte-open-licence/", True),
    "OGL-UK-3.0": Licence("Open Government Licence v3.0", "other", "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/", True),
    "DL-DE-BY-2.0": Licence("Data licence Germany – attribution – 2.0", "other", "https://www.govdata.de/dl-de/by-2-0", True),
    "DL-DE-ZERO-2.0": Licence("Data licence Germany – Zero – 2.0", "other", "https://www.govdata.de/dl-de/zero-2-0"),
    "CDLA-Permissive-2.0": Licence("Community Data License Agreement – Permissive 2.0", "cdla-permissive-2.0", "https://cdla.dev/permissive-2-0/"),
    "CDLA-Sharing-1.0": Licence("Community Data License Agreement – Sharing 1.0", "cdla-sharing-1.0", "https://cdla.dev/sharing-1-0/"),
    "GFDL-1.3-or-later": Licence("GNU Free Documentation License 1.3", "gfdl", "https://www.gnu.org/licenses/fdl-1.3.html"),
    "MIT": Licence("MIT License", "mit", "https://opensource.org/license/mit"),
    "Apache-2.0": Licence("Apache License 2.0", "apache-2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
}


PORTAL_LICENCES: dict[str, str] = {
    "cc-zero": "CC0-1.0", "cc0": "CC0-1.0", "cc0-1.0": "CC0-1.0", "odc-pddl": "PDDL-1.0", "other-pd": "PDDL-1.0",
    "cc-by": "CC-BY-4.0", "cc-by-4.0": "CC-BY-4.0", "cc-by-3.0": "CC-BY-3.0",
    "cc-by-sa": "CC-BY-SA-4.0", "cc-by-sa-4.0": "CC-BY-SA-4.0", "cc-by-sa-3.0": "CC-BY-SA-3.0",
    "odc-by": "ODC-By-1.0", "odc-odbl": "ODbL-1.0", "odbl": "ODbL-1.0",
    "fr-lo": "etalab-2.0", "lov2": "etalab-2.0", "etalab-2.0": "etalab-2.0", "uk-ogl": "OGL-UK-3.0",
    "dl-de-by-2.0": "DL-DE-BY-2.0", "dl-de-zero-2.0": "DL-DE-ZERO-2.0", "gfdl": "GFDL-1.3-or-later",
}
"""Licence ids as CKAN and udata portals write them, mapped to the open list. Anything else ("other-open",
"notspecified", "cc-nc", "other-closed" ...) is not known to be open: such datasets are skipped and counted."""


def portal_licence(portal_id: str | None) -> str | None:
    """The SPDX id of a portal's licence id when it is on the open list, else None."""
    return PORTAL_LICENCES.get((portal_id or "").strip().lower())

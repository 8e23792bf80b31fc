"""After an erasure: remove the older versions that still hold erased rows.

The local and object store targets delete every older version holding a row that a takedown entry matches (the live
version, just rebuilt without them, stays). On the Hub every revision stays readable by its commit, so the only way to
make older versions forget rows is `--purge-history`: the history of `main` is squashed into one commit (the live
version) and its tag is re-created; every older version and tag is gone for everyone (`revision="v1"` stops
working), which is why it is never done without being asked for.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..curate.takedown import load_entries, matches
from ..settings import Settings
from ..spec import SourceSpec
from . import open_target
from .local import LocalTarget
from .objects import ObjectTarget
from .previous import open_shard, shard_files
from .targets import Target


def holds_erased(target: Target, spec: SourceSpec, name: str, entries) -> bool:
    for path in shard_files(target, spec, name):
        for batch in open_shard(target, path).iter_batches():
            if any(matches(entry, batch).any() for entry in entries):
                return True
    return False


def purge(spec: SourceSpec, settings: Settings, purge_history: bool = False) -> Iterator[str]:
    """Remove older versions holding erased rows; yields one line per thing done, for the command line."""
    entries = load_entries(settings.takedown_dir, spec.id)
    target = open_target(settings.target, settings.publish_dir, settings.hf_endpoint, settings.hub_namespace,
                         settings.hub_retry_wait)
    history = target.history(spec)
    if not history:
        yield f"{spec.id}: nothing published yet"
        return
    live, older = history[-1], history[:-1]
    if isinstance(target, LocalTarget | ObjectTarget):
        stale = [v.name for v in older if holds_erased(target, spec, v.name, entries)]
        target.remove(spec, stale)
        yield (f"{spec.id}: removed {', '.join(stale)} (they held erased rows); {live.name} is live" if stale
               else f"{spec.id}: no older version holds erased rows; {live.name} is live")
    elif purge_history:
        kept = target.purge_history(spec, live)
        yield (f"{spec.id}: squashed the Hub history into {kept.name}; older versions "
               f"{', '.join(v.name for v in older) or '(none)'} are gone")
    elif older:
        yield (f"{spec.id}: older Hub versions {', '.join(v.name for v in older)} may still hold the erased rows; "
               "run again with --purge-history to squash the history (every older version is then lost)")

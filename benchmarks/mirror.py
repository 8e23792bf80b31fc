"""What COMMONS_STORE_URL costs a step: keeping a source's warehouse file and curation in an object store, and
fetching them on a machine that has neither, then again when nothing changed (orchestration/mirror.py).

The store is moto's S3 server on loopback (a Python server: a real S3 is likely faster); the source is the one
`side_by_side.py --mb 1000` left in its home (run it first, as `make bench` does):

    python benchmarks/mirror.py [--home .commons/bench/side_by_side/ours] [--source bench] [--out FILE]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=ROOT / ".commons" / "bench" / "side_by_side" / "ours")
    ap.add_argument("--source", default="bench")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    import s3fs
    from moto.server import ThreadedMotoServer

    from commons_pipelines.orchestration.mirror import Mirror

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ENDPOINT_URL": f"http://{host}:{port}"})
    s3fs.S3FileSystem(skip_instance_cache=True).mkdir("bench")
    mirror = Mirror("s3://bench/state")
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a", Path(tmp) / "b"
        db = a / "warehouse" / f"{args.source}.duckdb"
        db.parent.mkdir(parents=True)
        shutil.copy(args.home / "warehouse" / f"{args.source}.duckdb", db)
        shutil.copytree(args.home / "curated" / args.source, a / "curated" / args.source, symlinks=True)
        there = b / "warehouse" / f"{args.source}.duckdb"
        rows = [("warehouse file", size_mb(db), timed(lambda: mirror.keep_database(db, args.source)),
                 timed(lambda: mirror.fetch_database(there, args.source))),
                ("curation (data, quarantine, manifest)", size_mb(a / "curated" / args.source),
                 timed(lambda: mirror.keep_curated(a / "curated" / args.source, args.source)),
                 timed(lambda: mirror.fetch_curated(b / "curated" / args.source, args.source)))]
        unchanged = timed(lambda: (mirror.fetch_database(there, args.source),
                                   mirror.fetch_curated(b / "curated" / args.source, args.source)))
    server.stop()
    lines = ["# The object store copy (COMMONS_STORE_URL): what keeping and fetching cost", "",
             f"Made by `python benchmarks/mirror.py` (`make bench`), on the home `side_by_side.py --mb 1000` left. "
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}. Store: moto's S3 server on loopback, in this process.", "",
             "| what | MB | keep (upload) s | fetch on a machine without it s | MB/s up / down |",
             "|---|---:|---:|---:|---|"]
    lines += [f"| {what} | {mb:,.0f} | {up:.1f} | {down:.1f} | {mb / up:.0f} / {mb / down:.0f} |"
              for what, mb, up, down in rows]
    lines += ["", f"Fetching both again when nothing changed (the store's record names the local copy, the run's "
                  f"files are there): {unchanged:.2f} s."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

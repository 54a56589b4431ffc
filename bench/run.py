"""Run the portal's benchmarks and record them in bench/results.md.

    make bench                                  every benchmark
    .venv/bin/python bench/run.py queue         (under scripts/services.py exec --) just one
    .venv/bin/python bench/run.py --list

A benchmark is a module of this package with NAME, TITLE and run(options) -> markdown;
add it to BENCHMARKS below. All of them use dedicated databases named portal_bench*.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where a module could shadow the
# standard library (e.g. "queue"). Import this folder as the package `bench` instead.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCHMARKS = {
    "queue": "bench.staff_queue",
    "sweep": "bench.deadline_sweep",
    "email_latency": "bench.email_latency",
    "letters": "bench.letters",
    "pages": "bench.pages",
    "load": "bench.load",
    "boundaries": "bench.boundaries",
    "enrollment": "bench.enrollment",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--runs", type=int, default=None,
        help="timed runs: requests per page (queue, 30), sweeps per line (sweep, 5), "
        "decisions (email_latency, 50)",
    )
    parser.add_argument("--reseed", action="store_true", help="seed the data again even if present")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.md")
    options = parser.parse_args(argv)

    if options.list:
        for name, module in BENCHMARKS.items():
            print(f"{name:<12} {importlib.import_module(module).TITLE}")
        return 0
    unknown = [n for n in options.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    from bench import common

    started_at = datetime.now(UTC)
    started = time.perf_counter()
    url = common.configure_environment()
    common.ensure_database(url)
    common.setup_django()

    for name in options.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        common.say(f"--- {name}: {module.TITLE}")
        body = module.run(options)
        section = f"## {module.TITLE}\n\n{common.run_header(started_at)}\n{body}"
        if not options.no_write:
            common.update_results(name, section)
            common.say(f"{name}: written to {common.RESULTS.relative_to(ROOT)}")
    common.say(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

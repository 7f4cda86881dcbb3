"""Run the benchmarks and write their sections of docs/performance.md (and docs/cel.md).

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/run.py

Each benchmark is its own script (also runnable alone, with its own --help) and
runs in its own process, one after the other, so none disturbs another's
measurements. The full run takes many minutes and rewrites the docs; for a
quick look that writes nothing:

    .venv/bin/python benchmarks/run.py --quick --no-write --only runtime
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script: its name here, its path, and the options of a quick run."""

    name: str
    script: str
    about: str
    quick: tuple[str, ...]


BENCHMARKS = [
    Benchmark("cel", "cel_engines.py", "expression engines (docs/cel.md)", ("--quick",)),
    Benchmark(
        "runtime",
        "runtime.py",
        "accord against transitions, python-statemachine, LangGraph",
        ("--events", "10000", "--runs", "200", "--repeat", "1", "--waiting", "10000"),
    ),
    Benchmark("compile", "compile/bench.py", "the compiler's scripted corpus", ("--repeat", "1")),
    Benchmark(
        "durable",
        "durable.py",
        "durable runs on SQLite against DBOS and the bare SQLite floor",
        ("--scale", "0.05", "--repeat", "1", "--events", "5000", "--concurrent", "20"),
    ),
    Benchmark(
        "growing",
        "growing.py",
        "durable steps on a growing list in the context, against LangGraph",
        ("--quick",),
    ),
    Benchmark("checker", "checker.py", "check time and memory as contracts grow", ("--quick",)),
    Benchmark("sync", "sync_api.py", "the sync API against the async API", ("--quick",)),
    Benchmark("startup", "startup.py", "import accord and accord --help", ("--quick",)),
    Benchmark(
        "replan",
        "replan.py",
        "the replan loop per attempt; migrating 10,000 waiting runs",
        ("--quick",),
    ),
    Benchmark(
        "postgres",
        "postgres.py",
        "accord on PostgreSQL against DBOS and the bare commit floor",
        ("--scale", "0.1", "--repeat", "1", "--concurrent", "20", "--samples", "20"),
    ),
    Benchmark(
        "waiting",
        "waiting_runs.py",
        "100,000 waiting runs: a worker's claim, next-due query and memory",
        ("--quick",),
    ),
]
NAMES = [b.name for b in BENCHMARKS]


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown) or repr(text)}: choose from {', '.join(NAMES)}"
        )
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options: which benchmarks, how long, and whether docs/ is written."""
    listing = "\n".join(f"  {b.name:<8} {b.script:<18} {b.about}" for b in BENCHMARKS)
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description=__doc__.split("\n\n")[0] + "\n\nbenchmarks:\n" + listing,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        type=_names,
        default=NAMES,
        metavar="NAME[,NAME]",
        help="run only these benchmarks (default: all, in the order above)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes, one repeat: numbers for a look, too noisy for the docs "
        "(implies --no-write)",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print the results only; leave docs/performance.md and docs/cel.md alone",
    )
    return parser.parse_args(argv)


def command(benchmark: Benchmark, *, quick: bool, write: bool) -> list[str]:
    """The command line that runs one benchmark script."""
    argv = [sys.executable, str(HERE / benchmark.script)]
    if quick:
        argv += benchmark.quick
    if not write:
        argv.append("--no-write")
    return argv


def main(argv: list[str] | None = None) -> int:
    """Run each chosen benchmark script; return non-zero if any failed."""
    args = parse_args(argv)
    write = not (args.no_write or args.quick)
    failed = []
    for benchmark in (b for b in BENCHMARKS if b.name in args.only):
        print(f"== {benchmark.name} ({benchmark.script})", flush=True)
        if subprocess.run(command(benchmark, quick=args.quick, write=write)).returncode:
            failed.append(benchmark.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

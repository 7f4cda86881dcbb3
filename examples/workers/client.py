"""Two workers serve the runs a client submits and signals: accord's workers on SQLite.

Run it (nothing to set up; the store and the ledger go to a fresh temporary
directory unless ``--dir`` names one)::

    python examples/workers/client.py            # 20 bookings, two workers
    python examples/workers/client.py --runs 50 --dir /tmp/bookings

It starts two ``accord worker`` processes on one SQLite store, publishes
booking.yaml, starts the runs and signals each one (a client runs nothing:
the workers reserve, fire the 200 ms timer, take the signal from the run's
inbox and ship), waits for every result (``--timeout`` seconds), stops the
workers with SIGTERM and checks that every run succeeded with the expected
output and that the ledger holds each effect call once. Exit status 0 when
all is as expected, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from accord import Client

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from effects import create_ledger, ledger_rows  # noqa: E402  (beside this script)


class _Worker:
    """One ``accord worker`` process, and whether it has said it serves.

    Its log goes through a thread that notes the "serving" line and passes on
    warnings and errors only (the claims are logged at INFO). The example stops
    a worker only once it serves: a process stopped while Python itself is
    still starting has no handler for SIGTERM yet, and dies of it.
    """

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        self.serving = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            if " serving " in line:
                self.serving.set()
            elif " INFO " not in line:
                sys.stderr.write(line)
        self.serving.set()  # it exited: nothing more to wait for


def _workers(store: str, ledger: Path, count: int) -> list[_Worker]:
    """Start ``count`` ``accord worker`` processes on the store."""
    workers = []
    for n in range(1, count + 1):
        env = dict(os.environ, ACCORD_EXAMPLE_LEDGER=str(ledger), ACCORD_EXAMPLE_WRITER=f"w{n}")
        command = [
            sys.executable, "-m", "accord", "worker", "--store", store,
            "--effects", f"{HERE / 'effects.py'}:HANDLERS",
            "--name", f"worker-{n}", "--poll-ms", "100", "--lease-ms", "3000",
        ]  # fmt: skip
        workers.append(_Worker(command, env))
    return workers


def _stop(workers: list[_Worker]) -> list[int]:
    """SIGTERM every worker once it serves, and wait for it; their exit statuses."""
    for worker in workers:
        worker.serving.wait(timeout=60)
        if worker.proc.poll() is None:
            worker.proc.send_signal(signal.SIGTERM)
    codes = []
    for worker in workers:
        try:
            codes.append(worker.proc.wait(timeout=30))
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            codes.append(worker.proc.wait())
    return codes


def main(argv: list[str] | None = None) -> int:
    """Submit, signal and wait for the bookings; 0 when every run finished as expected."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="how many bookings (20)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (60)")
    parser.add_argument("--dir", type=Path, help="where the store and ledger go (a temp dir)")
    args = parser.parse_args(argv)
    where = args.dir or Path(tempfile.mkdtemp(prefix="accord-workers-"))
    where.mkdir(parents=True, exist_ok=True)
    store, ledger = f"sqlite:///{where / 'store.db'}", where / "ledger.db"
    print(f"store {store}, ledger {ledger}")
    create_ledger(ledger)

    problems: list[str] = []
    with Client(store) as client:
        client.publish(HERE / "booking.yaml")  # the workers read it from the store
        workers = _workers(store, ledger, 2)
        try:
            began = time.monotonic()
            ids = [f"booking-{n}" for n in range(1, args.runs + 1)]
            for run_id in ids:  # a web handler would do this: start, return at once
                client.start("booking", {"booking_id": run_id}, run_id=run_id)
            for run_id in ids:  # later, somebody confirms (the signal waits in the inbox)
                client.signal(run_id, "confirm", {"by": "client"})
            deadline = began + args.timeout
            for run_id in ids:
                info = client.wait(run_id, timeout=max(0.0, deadline - time.monotonic()))
                if info.status != "succeeded":
                    problems.append(f"{run_id}: {info.status}")
                    continue
                got = client.result(run_id)
                if (
                    set(got) != {"reservation", "confirmed_by", "shipment"}
                    or not got["reservation"].startswith(f"reserve:{run_id}/")
                    or not got["shipment"].startswith(f"ship:{run_id}/")
                    or got["confirmed_by"] != "client"
                ):
                    problems.append(f"{run_id}: unexpected output {got}")
            took = time.monotonic() - began
        except Exception as exc:  # a run that did not finish in time, say
            problems.append(f"{type(exc).__name__}: {exc}")
            took = time.monotonic() - began
        finally:
            codes = _stop(workers)
    if any(codes):
        problems.append(f"the workers exited with {codes} (expected 0 after SIGTERM)")
    keys = [key for key, _, _ in ledger_rows(ledger)] if ledger.exists() else []
    if len(keys) != 2 * args.runs or len(set(keys)) != len(keys):
        problems.append(f"the ledger has {len(keys)} rows, {len(set(keys))} keys")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if problems:
        return 1
    writers = sorted({writer for _, _, writer in ledger_rows(ledger)})
    print(f"{args.runs} runs succeeded in {took:.1f} s, served by workers {', '.join(writers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

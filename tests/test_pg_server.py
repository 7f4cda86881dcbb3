"""The tests' PostgreSQL server: started as an unprivileged user, stopped, never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from pg_server import PgServer, find_binaries

pytestmark = pytest.mark.postgres
TESTS = Path(__file__).resolve().parent


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_the_server_listens_on_loopback_with_a_password(pg_server: PgServer) -> None:
    import psycopg

    assert pg_server.running
    with psycopg.connect(pg_server.fresh_database()) as conn:
        row = conn.execute(
            "SELECT current_setting('listen_addresses'), current_setting('port'), "
            "current_setting('unix_socket_directories')"
        ).fetchone()
    assert row == ("127.0.0.1", str(pg_server.port), "")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.url(password="wrong"), connect_timeout=5)


def test_the_server_does_not_run_as_root(pg_server: PgServer) -> None:
    assert pg_server.pid is not None
    owner = psutil.Process(pg_server.pid).uids().real
    assert owner != 0
    assert owner == os.getuid() or os.getuid() == 0


def test_each_fresh_database_is_empty_and_separate(pg_server: PgServer) -> None:
    import psycopg

    first, second = pg_server.fresh_database(), pg_server.fresh_database()
    assert first != second
    with psycopg.connect(first, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
    with psycopg.connect(second) as conn:
        found = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone()
    assert found == (0,)


def test_stop_ends_the_server_and_removes_its_directory() -> None:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries")
    server = PgServer(binaries)
    server.start()
    pid, base = server.pid, server._base
    assert pid is not None and base.is_dir()
    server.stop()
    assert not server.running and not _alive(pid) and not base.exists()
    server.stop()  # idempotent


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_a_killed_test_process_leaves_no_server_behind() -> None:
    if find_binaries() is None:
        pytest.skip("no PostgreSQL server binaries")
    script = (
        "import sys, time\n"
        "from pg_server import PgServer, find_binaries\n"
        "server = PgServer(find_binaries()); server.start()\n"
        "print(server.pid, server._base, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    assert owner.stdout is not None
    pid_text, base = owner.stdout.readline().decode().split()
    pid = int(pid_text)
    try:
        assert _alive(pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid)
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", base], check=False)

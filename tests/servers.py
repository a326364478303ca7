"""Real servers a test starts and stops itself: a PostgreSQL cluster, a hot standby, PgBouncer.

Each listens on 127.0.0.1 on a port picked free at run time, keeps its files in a temp
directory, and is stopped (by its own data directory / pid) when the ``with`` ends.
As root, PostgreSQL runs as the ``embedded_postgres`` user the embedded server uses.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from conventions.db import embedded

PG15 = Path("/usr/lib/postgresql/15/bin")
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
_RUN_AS = "embedded_postgres" if os.geteuid() == 0 else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_binaries() -> Path:
    """PostgreSQL 15 when installed (the version the issues name), else the embedded one."""
    return PG15 if (PG15 / "initdb").is_file() else embedded.binary("initdb").parent


def _chown(path: Path) -> None:
    if _RUN_AS:
        entry = pwd.getpwnam(_RUN_AS)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, user=_RUN_AS)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")


def _local_url(port: int, database: str, user: str) -> URL:
    """A URL for a server (PostgreSQL or PgBouncer) this module started on localhost."""
    return URL.create(
        "postgresql+psycopg2", username=user, host="127.0.0.1", port=port, database=database
    )


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int

    def url(self, database: str = "postgres", *, user: str = "postgres") -> URL:
        return _local_url(self.port, database, user)

    def start(self, *options: str) -> None:
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.data.parent} " + " ".join(options)
        log = self.data.parent / f"{self.data.name}.log"
        _run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-l",
                str(log),
                "-o",
                opts,
                "start",
            ]
        )

    def stop(self) -> None:
        subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            user=_RUN_AS,
        )


@contextmanager
def cluster(*options: str, bin: Path | None = None) -> Iterator[Cluster]:
    """A fresh cluster (trust auth on 127.0.0.1, replication allowed) for one test module."""
    bin = bin or pg_binaries()
    root = Path(tempfile.mkdtemp(prefix="i11-pg-"))
    _chown(root)
    primary = Cluster(bin, root / "primary", free_port())
    _run([str(bin / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust"])
    with (primary.data / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    primary.start("-c wal_level=replica -c max_wal_senders=4", *options)
    try:
        yield primary
    finally:
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def standby_of(primary: Cluster) -> Iterator[Cluster]:
    """A hot standby streaming from ``primary`` (pg_basebackup -R), read-only by nature."""
    standby = Cluster(primary.bin, primary.data.parent / "standby", free_port())
    _run(
        [
            str(primary.bin / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(standby.data),
            "-R",
            "-X",
            "stream",
        ]
    )
    standby.start("-c hot_standby=on")
    try:
        yield standby
    finally:
        standby.stop()


@dataclass
class Bouncer:
    port: int
    pid: int

    def url(self, database: str, *, user: str = "postgres") -> URL:
        return _local_url(self.port, database, user)


@contextmanager
def pgbouncer(
    backend: URL, *, mode: str, pool_size: int = 2, databases: tuple[str, ...] = ()
) -> Iterator[Bouncer]:
    """A real PgBouncer in ``mode`` (transaction/session) in front of ``backend``'s server.

    ``databases`` are routed to the backend's host/port (socket dir for the embedded one).
    """
    root = Path(tempfile.mkdtemp(prefix="i11-bouncer-"))
    port = free_port()
    host = backend.query.get("host") or backend.host or "127.0.0.1"
    backend_port = backend.query.get("port") or backend.port or 5432
    lines = [f"{name} = host={host} port={backend_port} dbname={name}" for name in databases]
    (root / "users.txt").write_text(f'"{backend.username}" ""\n')
    (root / "pgbouncer.ini").write_text(
        "[databases]\n" + "\n".join(lines) + "\n\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {root / 'users.txt'}\n"
        f"pool_mode = {mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
        "server_reset_query = DISCARD ALL\nserver_reset_query_always = 0\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {root / 'pgbouncer.log'}\npidfile = {root / 'pgbouncer.pid'}\n"
        "admin_users = " + str(backend.username) + "\n"
    )
    _chown(root)
    for name in ("pgbouncer.ini", "users.txt"):
        _chown(root / name)
    proc = subprocess.Popen(
        [PGBOUNCER, str(root / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=_RUN_AS,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                log = root / "pgbouncer.log"
                raise RuntimeError(f"pgbouncer exited: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
        yield Bouncer(port, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)

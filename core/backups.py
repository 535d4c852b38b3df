"""Backups that restore: the database as a ``pg_dump`` archive (custom format) and the media files as a tar,
with a manifest of every table's row count and the stock ledger's checksum.

The figures are read in the very snapshot the dump is taken from (``pg_export_snapshot``), so a restore is
proved complete by reading the same figures back. Both sides connect with the admin URL: the application's
role is bound by row-level security (FORCE), and a dump through it would miss every merchant's rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import psycopg
from django.core.files import File
from django.core.files.storage import Storage
from django.utils import timezone
from psycopg import sql

from config.database import _bin, url_with

MANIFEST = "manifest.json"
DATABASE_FILE = "database.dump"
MEDIA_FILE = "media.tar"
FORMAT = 1
# The stock ledger: the one table whose every row, not only their number, a restore must prove equal.
LEDGER_TABLE = "catalog_stockmovement"


class BackupError(Exception):
    """A backup or restore that cannot be made or proved; the message says why."""


@dataclass(frozen=True)
class Client:
    """A PostgreSQL client program and its major version."""

    path: str
    major: int


def _major(version_text: str) -> int:
    found = re.search(r"\b(\d+)(?:\.\d+)?", version_text)
    if found is None:
        raise BackupError(f"cannot read a PostgreSQL version from {version_text!r}")
    return int(found.group(1))


def _candidates(name: str) -> Iterator[str]:
    yield _bin(name)
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin")):
        yield str(folder / name)
    found = shutil.which(name)
    if found:
        yield found


def client_for(name: str, *, minimum_major: int) -> Client:
    """The client program of the same major version as the server, else the oldest newer one.

    pg_dump refuses a server newer than itself, and an archive needs a pg_restore at least as new as
    the pg_dump that wrote it; the embedded wheel and the machine's packages may each have another version.
    """
    clients: list[Client] = []
    for path in dict.fromkeys(_candidates(name)):
        if not os.access(path, os.X_OK):
            continue
        try:
            shown = subprocess.run([path, "--version"], capture_output=True, text=True, check=True, timeout=30)  # noqa: S603 # nosec B603 - a PostgreSQL program found on this machine
        except (OSError, subprocess.SubprocessError):
            continue
        clients.append(Client(path=path, major=_major(shown.stdout)))
    usable = sorted((client for client in clients if client.major >= minimum_major), key=lambda c: c.major)
    if not usable:
        found = ", ".join(f"{c.path} ({c.major})" for c in clients) or "none"
        raise BackupError(f"no {name} of PostgreSQL {minimum_major} or newer on this machine (found: {found})")
    return usable[0]


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(url, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as error:
        raise BackupError(f"cannot connect to {_safe(url)}: {str(error).strip()}") from error
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    return url_with(url, password="") if parts.password else url  # nosec B106 - removes the password


def _client_env(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment that passes it (never on a command line)."""
    password = urlsplit(url).password or ""
    env = {**os.environ}
    if password:
        env["PGPASSWORD"] = password
    return _safe(url), env


def _check_bypasses_rls(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute("SELECT rolsuper OR rolbypassrls, rolname FROM pg_roles WHERE rolname = current_user").fetchone()
    if row is None or not row[0]:
        role = row[1] if row else "?"
        raise BackupError(
            f"the role {role} is bound by row-level security: a dump through it would miss every merchant's rows. "
            "Give the admin URL (DATABASE_ADMIN_URL or --admin-url), a superuser or a role WITH BYPASSRLS."
        )


def database_figures(conn: psycopg.Connection[Any], *, checksums: tuple[str, ...] = (LEDGER_TABLE,)) -> dict[str, Any]:
    """Every table's row count in the public schema, and an order-free checksum of the named tables' rows."""
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        ).fetchall()
    ]
    counts = {}
    for table in tables:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        counts[table] = int(row[0]) if row else 0
    sums = {}
    for table in checksums:
        if table not in counts:
            continue
        # A sum of each row's hash: constant memory on the server however long the ledger, and independent
        # of the physical order, which a restore does not keep.
        row = conn.execute(
            sql.SQL(
                "SELECT coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text "
                "FROM {} AS t"
            ).format(sql.Identifier(table))
        ).fetchone()
        sums[table] = row[0] if row else "0"
    return {"tables": counts, "checksums": sums}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _storage_files(storage: Storage, folder: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from _storage_files(storage, f"{folder}/{sub}" if folder else sub)


def media_archive(storage: Storage, target: Path) -> tuple[int, int]:
    """Write every file of the storage into a tar, one file at a time; returns (files, bytes)."""
    count = size = 0
    with tarfile.open(target, "w") as archive:
        for name in _storage_files(storage):
            info = tarfile.TarInfo(name)
            info.size = storage.size(name)
            info.mtime = int(timezone.now().timestamp())
            with storage.open(name, "rb") as handle:
                archive.addfile(info, handle)
            count, size = count + 1, size + info.size
    return count, size


def _member_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"the media archive holds a file outside the media folder: {name!r}")
    return str(path)


def media_restore(storage: Storage, source: Path) -> int:
    """Put every file of the tar back into the storage under its own name, replacing what is there."""
    count = 0
    with tarfile.open(source, "r") as archive:
        for member in archive:
            if not member.isfile():
                continue
            name = _member_name(member.name)
            handle = archive.extractfile(member)
            if handle is None:
                continue
            if storage.exists(name):
                storage.delete(name)
            saved = storage.save(name, File(handle, name=name))
            if saved != name:
                raise BackupError(f"the storage kept {name!r} as {saved!r}")
            count += 1
    return count


def backup_create(*, destination: Path, admin_url: str, database: str, storage: Storage | None) -> Path:
    """Dump the database and archive the media into a new folder under ``destination``; the manifest's
    figures are those of the dump's own snapshot. Returns the folder."""
    url = url_with(admin_url, database=database)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    folder = destination / f"lingshou-{database}-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    with _connect(url) as conn:
        _check_bypasses_rls(conn)
        server_major = int(str(conn.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
        owner = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]  # type: ignore[index]
        pg_dump = client_for("pg_dump", minimum_major=server_major)
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        figures = database_figures(conn)
        safe_url, env = _client_env(url)
        # The transaction stays open while pg_dump runs, so that its snapshot stays importable.
        done = subprocess.run(  # noqa: S603 # nosec B603 - our own arguments; the password goes in the environment
            [pg_dump.path, "--format=custom", "--no-password", f"--snapshot={snapshot}",
             f"--file={folder / DATABASE_FILE}", f"--dbname={safe_url}"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        conn.execute("COMMIT")
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[-2000:]}")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": database,
        "owner": owner,
        "server_major": server_major,
        "pg_dump_major": pg_dump.major,
        **figures,
        "files": {DATABASE_FILE: _sha256(folder / DATABASE_FILE)},
    }
    if storage is not None:
        files, size = media_archive(storage, folder / MEDIA_FILE)
        manifest["media"] = {"files": files, "bytes": size}
        manifest["files"][MEDIA_FILE] = _sha256(folder / MEDIA_FILE)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return folder


def manifest_read(folder: Path) -> dict[str, Any]:
    """The backup's manifest, after checking that its files are whole."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder} holds no readable {MANIFEST}: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: backup format {manifest.get('format')!r} is not {FORMAT}")
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.exists() or _sha256(path) != digest:
            raise BackupError(f"{path} is missing or not the file the backup wrote (checksum differs)")
    return manifest


def _database_prepare(admin_url: str, database: str, *, owner: str, create: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if exists is None:
            if not create:
                raise BackupError(f"there is no database {database}; pass --create to make it")
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [owner]).fetchone():
                raise BackupError(f"the role {owner}, which owned the backed-up database, does not exist here")
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )
    with _connect(url_with(admin_url, database=database)) as conn:
        _check_bypasses_rls(conn)
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        ).fetchone()
        if row and row[0]:
            raise BackupError(f"the database {database} already has {row[0]} tables; restore into a fresh one")


def backup_restore(
    *, folder: Path, admin_url: str, database: str, create: bool, storage: Storage | None
) -> dict[str, Any]:
    """Restore a backup into a fresh database (all or nothing) and its media into the storage, then prove
    every table's row count and the ledger's checksum equal to the manifest's. Returns the manifest."""
    manifest = manifest_read(folder)
    _database_prepare(admin_url, database, owner=manifest["owner"], create=create)
    url = url_with(admin_url, database=database)
    with _connect(url) as conn:
        server_major = int(str(conn.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    pg_restore = client_for("pg_restore", minimum_major=max(server_major, int(manifest["pg_dump_major"])))
    safe_url, env = _client_env(url)
    done = subprocess.run(  # noqa: S603 # nosec B603 - our own arguments; the password goes in the environment
        [pg_restore.path, "--exit-on-error", "--single-transaction", "--no-password",
         f"--dbname={safe_url}", str(folder / DATABASE_FILE)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[-2000:]}")
    with _connect(url) as conn:
        figures = database_figures(conn, checksums=tuple(manifest["checksums"]))
    differences = [
        f"{table}: {manifest['tables'].get(table)} rows backed up, {figures['tables'].get(table)} restored"
        for table in sorted(set(manifest["tables"]) | set(figures["tables"]))
        if manifest["tables"].get(table) != figures["tables"].get(table)
    ] + [
        f"{table}: checksum differs"
        for table, value in manifest["checksums"].items()
        if figures["checksums"].get(table) != value
    ]
    if differences:
        raise BackupError("the restored database differs from the backup: " + "; ".join(differences[:20]))
    if storage is not None and MEDIA_FILE in manifest["files"]:
        restored = media_restore(storage, folder / MEDIA_FILE)
        if restored != manifest["media"]["files"]:
            raise BackupError(f"{manifest['media']['files']} media files backed up, {restored} restored")
    return manifest

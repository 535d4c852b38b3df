"""manage.py backup and restore: a backup restored into a fresh database has every row of every merchant."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from catalog.models import MovementKind
from catalog.services.stock import stock_move
from config.database import url_with
from core.backups import DATABASE_FILE, LEDGER_TABLE, BackupError, client_for, database_figures
from merchants.models import Merchant
from tests.catalog.factories import StoreProductFactory
from tests.factories import StoreFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def admin_url() -> str:
    url = os.environ.get("DATABASE_ADMIN_URL", "")
    assert url, "run the tests through `python -m config.database run` or set DATABASE_ADMIN_URL"
    return url


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def restored_database(admin_url: str) -> Any:
    name = f"{connection.settings_dict['NAME']}_restored"
    _drop(admin_url, name)
    yield name
    _drop(admin_url, name)


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _figures(admin_url: str, database: str) -> dict[str, Any]:
    """Row counts of every table and a checksum of every table's rows, not only the ledger's."""
    with psycopg.connect(url_with(admin_url, database=database), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        tables = tuple(database_figures(conn)["tables"])
        return database_figures(conn, checksums=tables)


def _ledger(merchant: Merchant, moves: int) -> None:
    store = StoreFactory(merchant=merchant)
    item = StoreProductFactory(store=store)
    for number in range(moves):
        stock_move(merchant=merchant, store_product_id=item.pk, kind=MovementKind.RECEIPT, quantity=number + 1)


def _backup(*args: str) -> Path:
    out = io.StringIO()
    call_command("backup", *args, stdout=out)
    return Path(out.getvalue().strip())


def test_a_backup_restores_into_a_fresh_database_with_every_table_and_the_ledger_equal(
    merchant: Merchant,
    other_merchant: Merchant,
    admin_url: str,
    media_root: Path,
    restored_database: str,
    tmp_path: Path,
) -> None:
    _ledger(merchant, 5)
    _ledger(other_merchant, 3)
    default_storage.save("frames/7/000001.jpg", ContentFile(b"\xff\xd8 a frame \xff\xd9"))
    source_db = str(connection.settings_dict["NAME"])
    source = _figures(admin_url, source_db)
    # Both merchants' rows: the admin role sees past row-level security, the application's would see none.
    assert source["tables"][LEDGER_TABLE] == 8
    assert source["tables"]["merchants_store"] == 2

    folder = _backup("--to", str(tmp_path / "backups"))
    shutil.rmtree(media_root)
    out = io.StringIO()
    call_command("restore", str(folder), "--database", restored_database, "--create", stdout=out)

    assert "row counts and the ledger checksum match the backup" in out.getvalue()
    restored = _figures(admin_url, restored_database)
    assert restored["tables"] == source["tables"]
    assert restored["checksums"] == source["checksums"]
    assert (media_root / "frames/7/000001.jpg").read_bytes() == b"\xff\xd8 a frame \xff\xd9"
    with psycopg.connect(url_with(admin_url, database=restored_database)) as conn:
        forced = conn.execute(
            "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = %s", [LEDGER_TABLE]
        ).fetchone()
    # Row-level security comes back with the tables, so the restored database is as sealed as the original.
    assert forced == (True,)


def test_a_backup_through_the_application_role_is_refused(merchant: Merchant, admin_url: str, tmp_path: Path) -> None:
    _ledger(merchant, 1)
    app_url = url_with(
        admin_url, user=str(connection.settings_dict["USER"]), password=str(connection.settings_dict["PASSWORD"])
    )
    with pytest.raises(CommandError, match="bound by row-level security"):
        _backup("--to", str(tmp_path / "backups"), "--admin-url", app_url, "--no-media")


def test_a_restore_into_a_database_with_tables_is_refused_and_changes_nothing(
    merchant: Merchant, admin_url: str, tmp_path: Path
) -> None:
    _ledger(merchant, 2)
    folder = _backup("--to", str(tmp_path / "backups"), "--no-media")
    source_db = str(connection.settings_dict["NAME"])
    before = _figures(admin_url, source_db)

    with pytest.raises(CommandError, match=r"already has \d+ tables; restore into a fresh one"):
        call_command("restore", str(folder), "--database", source_db, "--no-media")

    assert _figures(admin_url, source_db) == before


def test_a_damaged_backup_is_refused_before_anything_is_restored(
    merchant: Merchant, admin_url: str, restored_database: str, tmp_path: Path
) -> None:
    _ledger(merchant, 1)
    folder = _backup("--to", str(tmp_path / "backups"), "--no-media")
    with (folder / DATABASE_FILE).open("ab") as dump:
        dump.write(b"\0")

    with pytest.raises(CommandError, match="not the file the backup wrote"):
        call_command("restore", str(folder), "--database", restored_database, "--create", "--no-media")

    with psycopg.connect(admin_url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [restored_database]).fetchone() is None


def test_the_client_programs_match_the_server_or_are_refused_by_name() -> None:
    with psycopg.connect(os.environ["DATABASE_ADMIN_URL"]) as conn:
        server = int(str(conn.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]
    # pg_dump refuses a newer server: the one picked is never older than the server.
    assert client_for("pg_dump", minimum_major=server).major >= server
    with pytest.raises(BackupError, match="no pg_dump of PostgreSQL 99 or newer on this machine"):
        client_for("pg_dump", minimum_major=99)

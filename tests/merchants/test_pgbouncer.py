"""Behind PgBouncer in transaction mode (README, "Connections"): one server connection shared by two shops'
requests in turn carries no shop's settings into the other's transaction, and each sees only its own rows.

Needs Debian's pgbouncer (CI installs it); skipped, with that reason, where it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from config.database import url_with
from merchants.models import Merchant, Store
from tests.gunicorn import free_port
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
PROBE = Path(__file__).with_name("bouncer_probe.py")


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def bouncer() -> Iterator[str]:
    """PgBouncer in transaction mode with one server connection to the test database; its URL for the app's role."""
    if not Path(PGBOUNCER).exists():
        pytest.skip("needs Debian's pgbouncer (apt-get install pgbouncer)")
    app = urlsplit(os.environ["DATABASE_URL"])
    database = connection.settings_dict["NAME"]
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        here.chmod(0o755)  # PgBouncer refuses to run as root: run as root, it drops to nobody, who reads these
        (here / "users.txt").write_text(f'"{app.username}" ""\n')
        (here / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{database} = host={app.hostname or '127.0.0.1'} port={app.port or 5432} dbname={database} "
            f"user={app.username} password={app.password or ''}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {here / 'users.txt'}\n"
            "pool_mode = transaction\ndefault_pool_size = 1\nmin_pool_size = 0\nmax_client_conn = 20\n"
        )
        for name in ("users.txt", "pgbouncer.ini"):
            (here / name).chmod(0o644)
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        log = here / "pgbouncer.log"  # its log goes to stderr: opened here, before it drops to nobody
        with log.open("wb") as stderr:
            process = subprocess.Popen([PGBOUNCER, *user, str(here / "pgbouncer.ini")], stderr=stderr)
        try:
            assert wait_for(lambda: _answers(port), timeout=15), log.read_text()
            yield url_with(f"postgres://{app.username}:{app.password or ''}@127.0.0.1:{port}/", database=database)
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_two_shops_taking_turns_on_one_pooled_server_connection_see_only_their_own_rows(
    bouncer: str, merchant: Merchant, store: Store, other_merchant: Merchant, other_store: Store
) -> None:
    run = subprocess.run(
        [sys.executable, str(PROBE), str(merchant.pk), str(other_merchant.pk), "3"],
        env={**os.environ, "DATABASE_URL": bouncer, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    turns = json.loads(run.stdout.strip().splitlines()[-1])
    assert [turn["merchant"] for turn in turns] == [merchant.pk, other_merchant.pk] * 3
    # One server connection served both shops' clients, turn after turn.
    assert len({pid for turn in turns for pid in turn["pids"]}) == 1
    own = {merchant.pk: [store.code], other_merchant.pk: [other_store.code]}
    for turn in turns:
        # The last turn's merchant is not in force in the next transaction, and no context sees no rows.
        assert turn["bare_setting"] == "", turn
        assert turn["bare_stores"] == [], turn
        assert turn["setting"] == str(turn["merchant"]), turn
        assert turn["stores"] == own[turn["merchant"]], turn

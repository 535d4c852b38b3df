"""Operations: health and readiness, production settings, the demo seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from demo.seed import accounts
from merchants.models import Membership, Merchant, PlatformAccess, Store
from merchants.tenancy import merchant_context, platform_access

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x" * 20 + "production-secret-key-with-plenty-of-entropy-0123456789",
    "ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://lingshou_app:secret@db.example.com:5432/lingshou",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # As a production process would start: none of the test session's own variables (the e2e
    # suite sets DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which check --deploy rightly flags).
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_healthz_answers_without_the_database() -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_broker() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_and_names_the_broker_when_it_is_down(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from config.celery import app

    connect = app.connection_for_write
    # Nothing listens on port 1; the app's own configuration stays untouched.
    monkeypatch.setattr(app, "connection_for_write", lambda: connect("redis://127.0.0.1:1/0"))
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"] != "ok"


def test_check_deploy_under_production_settings_prints_no_warning() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_a_required_variable(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


@pytest.mark.django_db
def test_the_demo_seed_runs_twice_and_keeps_what_the_owner_changed() -> None:
    assert accounts.demo_seed() is True
    with platform_access(reason="test", actor="test"):
        counts = (Merchant.objects.count(), Store.objects.count(), Membership.objects.count())
        store = Store.objects.get(merchant__slug="kiosk-linden", name="Bahnhof")
    assert counts == (2, 3, 6)
    with merchant_context(store.merchant.pk):
        Store.objects.filter(pk=store.pk).update(name="Bahnhof (renamed by the owner)")
    assert accounts.demo_seed() is False
    with platform_access(reason="test", actor="test"):
        assert (Merchant.objects.count(), Store.objects.count(), Membership.objects.count()) == counts
        assert Store.objects.get(pk=store.pk).name == "Bahnhof (renamed by the owner)"
    User = get_user_model()
    for _who, email, _where in accounts.logins():
        assert User.objects.get(email=email).check_password(accounts.PASSWORD)


@pytest.mark.slow
# The whole demo: 90 days of sales in three stores and their rollups (about 90 s alone, longer on a busy machine).
@pytest.mark.timeout(900)
@pytest.mark.django_db
def test_the_demo_seed_command_prints_every_login(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("demo_seed")
    out = capsys.readouterr().out
    for _who, email, _where in accounts.logins():
        assert email in out
    assert accounts.PASSWORD in out


@pytest.mark.django_db
def test_wholesaler_staff_see_only_their_own_merchants_in_the_admin_and_it_is_audited() -> None:
    accounts.demo_seed()
    from tests.factories import MerchantFactory, WholesalerFactory

    foreign = MerchantFactory(name="Supplied by someone else", wholesaler=WholesalerFactory(slug="other", name="Other"))
    client = Client()
    client.force_login(get_user_model().objects.get(email=accounts.WHOLESALER_STAFF))
    before = PlatformAccess.objects.count()
    body = client.get("/admin/merchants/merchant/").content.decode()
    assert "Kiosk Lindenstraße" in body
    assert foreign.name not in body
    assert PlatformAccess.objects.count() == before + 1
    assert client.get(f"/admin/merchants/merchant/{foreign.pk}/change/").status_code == 302  # not found: back to index

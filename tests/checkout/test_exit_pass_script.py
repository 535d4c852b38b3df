"""The door reader's reference client (scripts/exit_pass_check.py) checks real passes offline with the published key.

The script runs as a door would run it: its own process, Python and `cryptography` only, no Django
settings, no database and no server; the key is the one the public-key endpoint publishes.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from checkout import exit_pass
from checkout.models import ExitPass, Order
from checkout.services.exit_passes import exit_pass_token
from merchants.models import Store
from merchants.tenancy import merchant_context
from tests.checkout.test_exit_check_page import paid_order

pytestmark = pytest.mark.django_db

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "exit_pass_check.py"


def _run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    """The script in a process of its own, with nothing of Lingshou in its environment."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def key(tmp_path: Path) -> Path:
    """The key exactly as Lingshou publishes it, saved by a reader while online."""
    published = Client().get("/api/v1/exit-passes/public-key/").json()
    assert published["algorithm"] == "EdDSA"
    path = tmp_path / "exit-pass-key.pem"
    path.write_text(published["public_key_pem"])
    return path


@pytest.fixture
def order(store: Store) -> Order:
    return paid_order(store, [("Quellwerk Cola", 249, 2)])


def _token(order: Order) -> str:
    token = exit_pass_token(order=order)
    assert token is not None
    return token


def _claims_replaced(token: str, **changes: Any) -> str:
    header, claims, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_real_pass_is_valid_offline(key: Path, store: Store, order: Order) -> None:
    code, output = _run("verify", "--key", str(key), "--store", store.code, _token(order))

    assert code == 0, output
    assert output.startswith(f"valid: order {order.pk} at store {store.code} (merchant {store.merchant_id}), until ")
    with merchant_context(store.merchant_id):
        assert ExitPass.objects.get(order=order).used_at is None  # the script asked no server


def test_a_tampered_pass_is_not_valid(key: Path, order: Order) -> None:
    tampered = _claims_replaced(_token(order), o=order.pk + 1)

    code, output = _run("verify", "--key", str(key), tampered)

    assert (code, output) == (1, "not valid: the signature does not match: the pass is forged or altered\n")


def test_a_pass_signed_with_another_key_is_not_valid(key: Path, store: Store, order: Order) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = jwt.encode(
        {"iss": "lingshou", "jti": "x", "m": store.merchant_id, "o": order.pk, "s": store.code, "exp": 9999999999},
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
    )

    assert _run("verify", "--key", str(key), forged) == (
        1,
        "not valid: the signature does not match: the pass is forged or altered\n",
    )


def test_an_expired_pass_is_not_valid(key: Path, store: Store, order: Order) -> None:
    with merchant_context(store.merchant_id):
        issued = ExitPass.objects.get(order=order)
    expired = exit_pass.sign(
        jti=str(issued.jti),
        merchant_id=store.merchant_id,
        order_id=order.pk,
        store=store.code,
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    code, output = _run("verify", "--key", str(key), expired)

    assert code == 1
    assert output.startswith("not valid: the pass expired at ")


def test_a_pass_of_another_store_is_refused_at_this_door(key: Path, other_store: Store) -> None:
    theirs = paid_order(other_store, [("Späti Spezialbier", 389, 1)])

    assert _run("verify", "--key", str(key), "--store", "LINDEN5", _token(theirs)) == (
        1,
        f"not valid: the pass is for another store ({other_store.code})\n",
    )


def test_a_door_refuses_a_pass_it_let_through_already_and_keeps_it_for_the_report(
    key: Path, tmp_path: Path, order: Order
) -> None:
    seen = tmp_path / "seen.jsonl"
    token = _token(order)

    first = _run("verify", "--key", str(key), "--seen", str(seen), "-", stdin=token + "\n")
    second = _run("verify", "--key", str(key), "--seen", str(seen), token)

    assert first[0] == 0, first
    assert second[0] == 1
    assert second[1].startswith("not valid: already used at this door at ")
    [entry] = [json.loads(line) for line in seen.read_text().splitlines()]
    # What the door reports to /api/v1/devices/exit-passes/used/ once it is online again.
    assert entry["token"] == token
    assert entry["used_at"].endswith("Z")


def test_garbage_is_not_a_pass(key: Path) -> None:
    assert _run("verify", "--key", str(key), "4006381333931") == (1, "not valid: this is not an exit pass\n")
    assert _run("verify", "--key", str(key), "a.b.c") == (1, "not valid: this is not an exit pass\n")


@pytest.mark.django_db(transaction=True)
def test_fetch_key_saves_the_published_key_that_then_checks_passes(
    live_server: Any, tmp_path: Path, store: Store
) -> None:
    saved = tmp_path / "door-key.pem"

    code, output = _run("fetch-key", live_server.url, "--out", str(saved))

    assert (code, output) == (0, f"saved the exit-pass key of {live_server.url} to {saved}\n")
    assert saved.read_text() == exit_pass.public_key_pem()
    order = paid_order(store, [("Quellwerk Cola", 249, 1)])
    assert _run("verify", "--key", str(saved), _token(order))[0] == 0

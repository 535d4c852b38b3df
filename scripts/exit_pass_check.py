#!/usr/bin/env python3
"""Check a Lingshou exit pass offline, as a door reader does: a small reference client.

What the receipt's QR code holds is a JWT signed with Ed25519 (``alg`` EdDSA) whose claims are
``iss`` ("lingshou"), ``jti`` (the pass), ``m`` (the merchant's id), ``o`` (the order's id),
``s`` (the store's code) and ``exp`` (Unix time; a pass lives 30 minutes).

Lingshou publishes the public key, without sign-in, at

    GET <site>/api/v1/exit-passes/public-key/
    {"algorithm": "EdDSA", "public_key_pem": "-----BEGIN PUBLIC KEY-----\\n..."}

A reader fetches it while it is online and keeps it. From then on the key alone checks a pass:
the signature (a forged or altered pass fails), the issuer, the expiry and, if the reader is
told its store, that the pass is for that store. No server is asked.

The key cannot say whether a pass was used already. Online, a reader asks the server instead,
which checks and uses the pass up in one step:

    POST <site>/api/v1/devices/exit-passes/check/   {"token": "..."}   (Authorization: Device <token>)

Offline, it remembers the passes it let through (``--seen``, which also refuses a second use at
this door) and reports them when it is back, each with the time it let the shopper out:

    POST <site>/api/v1/devices/exit-passes/used/   [{"token": "...", "used_at": "2026-11-22T10:00:00Z"}, ...]

Each report answers as if the pass had been checked then: "ok", or "used" for a pass already
used elsewhere (the owner sees it), and so on.

Usage:

    exit_pass_check.py fetch-key https://shop.example --out exit-pass-key.pem
    exit_pass_check.py verify --key exit-pass-key.pem [--store LINDEN5] [--seen seen.jsonl] TOKEN

TOKEN ``-`` reads the pass from standard input (as a USB scanner types it). ``verify`` prints one
line, ``valid: ...`` or ``not valid: <reason>``, and exits 0 or 1 (2 for a usage error).

Needs Python 3.11 or newer and the ``cryptography`` package, nothing of Lingshou.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

ISSUER = "lingshou"
KEY_PATH = "/api/v1/exit-passes/public-key/"
STDIN = "-"  # the pass argument that means: read it from standard input


class NotValid(Exception):
    """A pass this door must not accept; the message says why."""


@dataclass(frozen=True)
class Pass:
    jti: str
    merchant_id: int
    order_id: int
    store: str
    expires_at: int


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part.encode("ascii") + b"=" * (-len(part) % 4))
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise NotValid("this is not an exit pass") from error


def _json_part(part: str) -> dict[str, object]:
    try:
        value = json.loads(_b64url_decode(part))
    except ValueError as error:
        raise NotValid("this is not an exit pass") from error
    if not isinstance(value, dict):
        raise NotValid("this is not an exit pass")
    return value


def key_load(pem: bytes) -> Ed25519PublicKey:
    """The Ed25519 public key of a PEM file, as the public-key endpoint gives it."""
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the key is not an Ed25519 public key")
    return key


def pass_verify(token: str, *, key: Ed25519PublicKey, now: float, store: str = "") -> Pass:
    """The pass's claims if the key signed it, it is Lingshou's, unexpired at ``now`` and (given one) for ``store``."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise NotValid("this is not an exit pass")
    header_part, claims_part, signature_part = parts
    header = _json_part(header_part)
    if header.get("alg") != "EdDSA":
        raise NotValid("this is not an exit pass (not signed with EdDSA)")
    try:
        key.verify(_b64url_decode(signature_part), f"{header_part}.{claims_part}".encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError) as error:
        raise NotValid("the signature does not match: the pass is forged or altered") from error
    # Only now, once the key vouches for them, do the claims mean anything.
    claims = _json_part(claims_part)
    if claims.get("iss") != ISSUER:
        raise NotValid("this pass was not issued by Lingshou")
    expires_at, jti = claims.get("exp"), claims.get("jti")
    merchant_id, order_id, pass_store = claims.get("m"), claims.get("o"), claims.get("s")
    if not (
        isinstance(expires_at, int)
        and isinstance(jti, str)
        and isinstance(merchant_id, int)
        and isinstance(order_id, int)
        and isinstance(pass_store, str)
    ):
        raise NotValid("this pass lacks a claim an exit pass has")
    # As the server decides (PyJWT): a pass is expired from its exp second on.
    if expires_at <= now:
        raise NotValid(f"the pass expired at {_utc(expires_at)}; the clerk can check the receipt")
    if store and pass_store.casefold() != store.casefold():
        raise NotValid(f"the pass is for another store ({pass_store})")
    return Pass(jti=jti, merchant_id=merchant_id, order_id=order_id, store=pass_store, expires_at=expires_at)


def _utc(timestamp: float) -> str:
    return f"{datetime.fromtimestamp(timestamp, tz=UTC):%Y-%m-%d %H:%M:%S} UTC"


def _seen(path: Path) -> dict[str, str]:
    """jti -> when this door let it through, from the door's own log."""
    if not path.exists():
        return {}
    entries = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return {entry["jti"]: entry["used_at"] for entry in entries}


def verify(args: argparse.Namespace) -> int:
    token = sys.stdin.read() if args.exit_pass == STDIN else args.exit_pass
    now = time.time()
    try:
        key = key_load(Path(args.key).read_bytes())
    except (OSError, ValueError) as error:
        sys.stderr.write(f"cannot read the public key {args.key}: {error}\n")
        return 2
    try:
        checked = pass_verify(token, key=key, now=now, store=args.store)
        if args.seen:
            log = Path(args.seen)
            used_at = _seen(log).get(checked.jti)
            if used_at is not None:
                raise NotValid(f"already used at this door at {used_at}")
            # Kept for the report to /api/v1/devices/exit-passes/used/ once the door is online.
            used_at = f"{datetime.fromtimestamp(now, tz=UTC):%Y-%m-%dT%H:%M:%SZ}"
            with log.open("a") as lines:
                lines.write(json.dumps({"jti": checked.jti, "token": token.strip(), "used_at": used_at}) + "\n")
    except NotValid as error:
        sys.stdout.write(f"not valid: {error}\n")
        return 1
    sys.stdout.write(
        f"valid: order {checked.order_id} at store {checked.store} (merchant {checked.merchant_id}),"
        f" until {_utc(checked.expires_at)}\n"
    )
    return 0


def fetch_key(args: argparse.Namespace) -> int:
    site = urlsplit(args.site)
    if site.scheme not in ("http", "https") or not site.netloc:
        sys.stderr.write(f"{args.site} is not an http(s) address of a Lingshou site\n")
        return 2
    url = f"{args.site.rstrip('/')}{KEY_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the scheme is checked above  # nosec B310
            published = json.load(response)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"cannot fetch the key from {url}: {error}\n")
        return 2
    if not isinstance(published, dict) or published.get("algorithm") != "EdDSA":
        sys.stderr.write(f"{url} does not publish an EdDSA key\n")
        return 2
    pem = published["public_key_pem"].encode()
    key_load(pem)  # refuse to keep anything but an Ed25519 key
    Path(args.out).write_bytes(pem)
    sys.stdout.write(f"saved the exit-pass key of {args.site} to {args.out}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check Lingshou exit passes offline with the published public key.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch-key", help="download the public key while online")
    fetch.add_argument("site", help="the Lingshou site, e.g. https://shop.example")
    fetch.add_argument("--out", default="exit-pass-key.pem", help="where to keep the key (PEM)")
    fetch.set_defaults(run=fetch_key)
    check = commands.add_parser("verify", help="check one pass with the kept key, offline")
    check.add_argument(
        "exit_pass", metavar="TOKEN", help="the pass (what its QR code holds), or - to read it from standard input"
    )
    check.add_argument("--key", required=True, help="the PEM file fetch-key wrote")
    check.add_argument("--store", default="", help="this door's store code: passes of other stores are refused")
    check.add_argument(
        "--seen", default="", help="this door's log of passes let through (JSON lines): a second use is refused"
    )
    check.set_defaults(run=verify)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

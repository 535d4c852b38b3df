"""Exit passes: short-lived, single-use tokens signed with Ed25519 (a JWT, alg EdDSA).

The door reader or the clerk's page checks the signature and expiry with the public key alone,
so a reader that lost its connection keeps working from a cached key; whether a pass was already
used is the server's to say, and an offline reader reports its uses when it is back.

The signing key comes from EXIT_PASS_SIGNING_KEY (base64 of 32 random bytes). Without it the key
is derived from SECRET_KEY, so every process of one installation agrees without more set-up.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

ISSUER = "lingshou"


@cache
def _private_key() -> Ed25519PrivateKey:
    configured = getattr(settings, "EXIT_PASS_SIGNING_KEY", "")
    seed = (
        base64.b64decode(configured)
        if configured
        else hashlib.sha256(f"exit-pass:{settings.SECRET_KEY}".encode()).digest()
    )
    return Ed25519PrivateKey.from_private_bytes(seed[:32])


def public_key() -> Ed25519PublicKey:
    return _private_key().public_key()


def public_key_pem() -> str:
    """What door readers cache to check passes offline."""
    return (
        public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    )


@dataclass(frozen=True)
class PassClaims:
    jti: str
    merchant_id: int
    order_id: int
    store: str


class PassInvalid(ValueError):
    """A token that is not a valid pass (forged, altered, expired); the message says which."""


def sign(*, jti: str, merchant_id: int, order_id: int, store: str, expires_at: datetime) -> str:
    claims = {
        "iss": ISSUER,
        "jti": jti,
        "m": merchant_id,
        "o": order_id,
        "s": store,
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, _private_key(), algorithm="EdDSA")


def verify(token: str) -> PassClaims:
    """The pass's claims if its signature and expiry hold; PassInvalid otherwise."""
    try:
        claims = jwt.decode(
            token, public_key(), algorithms=["EdDSA"], issuer=ISSUER, options={"require": ["exp", "jti"]}
        )
    except jwt.ExpiredSignatureError as error:
        raise PassInvalid("This exit pass has expired. Show the receipt to the clerk.") from error
    except jwt.InvalidTokenError as error:
        raise PassInvalid("This is not a valid exit pass.") from error
    return PassClaims(
        jti=str(claims["jti"]), merchant_id=int(claims["m"]), order_id=int(claims["o"]), store=str(claims["s"])
    )

"""The demo's people and shops: seeded once, then left to the owner to change."""

from __future__ import annotations

import base64

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import Membership, Merchant, Role, Wholesaler, WholesalerStaff
from merchants.services import merchant_create, store_create
from merchants.tenancy import merchant_context, platform_access

PASSWORD = "lingshou-demo"  # noqa: S105 - the demo prints it; no real shop uses it  # nosec B105
WHOLESALER_SLUG = "greenline"

PLATFORM_ADMIN = "admin@lingshou.example"
WHOLESALER_STAFF = "depot@greenline.example"
# The platform operator always signs in with a second step; in the demo with this published key, so that
# anyone can add it to an authenticator app (base32 NRUW 4Z3T NBXX KLLE MVWW 6LLU N52H AIJB) or get the
# current code from `manage.py totp_code admin@lingshou.example`. No real account has it.
DEMO_TOTP_KEY = "6c696e6773686f752d64656d6f2d746f74702121"  # b"lingshou-demo-totp!!"

# name, slug, stores (name, street, postal code, city), staff e-mail domain, VAT id and tax number (made up,
# with valid check digits)
MERCHANTS = [
    (
        "Kiosk Lindenstraße",
        "kiosk-linden",
        [("Lindenstraße", "Lindenstraße 5", "10969", "Berlin"), ("Bahnhof", "Bahnhofsplatz 2", "10557", "Berlin")],
        "kiosk-linden.example",
        ("DE298765435", "29/123/45678"),
    ),
    (
        "Späti am Park",
        "spaeti-park",
        [("Am Park", "Parkweg 1", "10437", "Berlin")],
        "spaeti-park.example",
        ("DE314159262", "31/415/92653"),
    ),
]
WHOLESALER_VAT_ID = "DE271828180"
RECEIPT_FOOTER = "Danke für Ihren Einkauf! Umtausch nur mit Kassenbon."

# What wholesaler staff may do in the admin; later capabilities add their own models.
WHOLESALER_PERMISSIONS = [
    "view_wholesaler", "view_merchant", "view_store", "view_wholesalerstaff",
    "view_category", "add_category", "change_category",
    "view_product", "add_product", "change_product",
    "view_barcode", "add_barcode", "change_barcode", "delete_barcode",
]  # fmt: skip


def logins() -> list[tuple[str, str, str]]:
    """(who, e-mail, where) of every seeded login; all share PASSWORD."""
    rows = [
        ("platform operator", PLATFORM_ADMIN, "/admin/"),
        ("wholesaler staff", WHOLESALER_STAFF, "/admin/"),
    ]
    for name, slug, _stores, domain, _tax_ids in MERCHANTS:
        for role in Role.values:
            rows.append((f"{role} of {name}", f"{role}@{domain}", f"/m/{slug}/"))
    return rows


def demo_totp_secret() -> str:
    """The demo operator's key as an authenticator app takes it (base32)."""
    return base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()


def is_seeded() -> bool:
    """The demo's wholesaler exists: the accounts were seeded before."""
    return Wholesaler.objects.filter(slug=WHOLESALER_SLUG).exists()


def demo_seed() -> bool:
    """Create the demo data once; returns False (and changes nothing) when it is already there."""
    User = get_user_model()
    with transaction.atomic(), platform_access(reason="demo seed", actor="command:demo_seed"):
        if is_seeded():
            return False
        wholesaler = Wholesaler.objects.create(
            name="Greenline Wholesale", slug=WHOLESALER_SLUG, vat_id=WHOLESALER_VAT_ID
        )
        operator = User.objects.create_superuser(
            username=PLATFORM_ADMIN, email=PLATFORM_ADMIN, password=PASSWORD, first_name="Ada"
        )
        TOTPDevice.objects.create(user=operator, name="Authenticator app", key=DEMO_TOTP_KEY, confirmed=True)
        staff_user = User.objects.create_user(
            username=WHOLESALER_STAFF, email=WHOLESALER_STAFF, password=PASSWORD, first_name="Grete", is_staff=True
        )
        group, _ = Group.objects.get_or_create(name="Wholesaler staff")
        group.permissions.set(Permission.objects.filter(codename__in=WHOLESALER_PERMISSIONS))
        staff_user.groups.add(group)
        WholesalerStaff.objects.create(user=staff_user, wholesaler=wholesaler)
        for name, slug, stores, domain, (vat_id, tax_number) in MERCHANTS:
            people = {
                role: User.objects.create_user(
                    username=f"{role}@{domain}", email=f"{role}@{domain}", password=PASSWORD, first_name=role.title()
                )
                for role in Role.values
            }
            merchant: Merchant = merchant_create(name=name, slug=slug, wholesaler=wholesaler, owner=people[Role.OWNER])
            with merchant_context(merchant.pk):
                for role in (Role.MANAGER, Role.CLERK):
                    Membership.objects.create(merchant=merchant, user=people[role], role=role)
            for store_name, street, postal_code, city in stores:
                store_create(
                    merchant=merchant,
                    name=store_name,
                    timezone_name="Europe/Berlin",
                    currency="EUR",
                    street=street,
                    postal_code=postal_code,
                    city=city,
                    country="DE",
                    vat_id=vat_id,
                    tax_number=tax_number,
                    receipt_footer=RECEIPT_FOOTER,
                )
    return True

"""The tenant and who may act for it: wholesalers, merchants, stores, staff, tokens, devices.

Every tenant-owned table carries ``merchant`` (also on child rows), and its indexes and unique
constraints lead with it, so each table can be distributed by merchant_id. Row-level security
(merchants/rls.py) hides other merchants' rows from every query.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone

from merchants.querysets import InvitationQuerySet, StoreScopedQuerySet, TenantQuerySet
from merchants.tax_ids import tax_number_validator, vat_id_validator

slug_validator = RegexValidator(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$", "Use lowercase letters, digits and hyphens.")
currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 currency code, such as EUR.")


def timezone_validator(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not a known time zone (for example Europe/Berlin).", code="invalid_timezone"
        )


# GS1 keeps these prefixes of an EAN-13 for use inside a shop or a region: 02 and 20-29 for scale
# labels and in-store codes, 04 for in-store numbering, 98-99 for coupons and vouchers. A return slip
# must start in one of them, or it could shadow a real product's barcode.
RESTRICTED_PREFIXES = frozenset({"02", "04", *(f"2{d}" for d in range(10)), "98", "99"})


def deposit_slip_prefix_validator(value: str) -> None:
    if not value:
        return
    if not (value.isascii() and value.isdigit() and 2 <= len(value) <= 3):
        raise ValidationError("A return slip prefix is 2 or 3 digits, such as 98.", code="invalid_slip_prefix")
    if value[:2] not in RESTRICTED_PREFIXES:
        raise ValidationError(
            "A return slip prefix starts 02, 04, 20-29, 98 or 99 (GS1 codes for use inside a shop); "
            f"{value} would clash with the barcodes of products.",
            code="invalid_slip_prefix",
        )


class Wholesaler(models.Model):
    """The single source a merchant buys from; not a tenant of the shop."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    # Wholesale costs and suggested retail prices are in this currency.
    currency = models.CharField(max_length=3, default="EUR", validators=[currency_validator])
    # Printed on its invoices to the shops, which need it to deduct the VAT they paid.
    vat_id = models.CharField("VAT id", max_length=20, blank=True, validators=[vat_id_validator])
    created_at = models.DateTimeField(default=django_timezone.now)

    def __str__(self) -> str:
        return self.name


class WholesalerStaff(models.Model):
    """A user who works for a wholesaler in the admin."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wholesaler_staff")
    wholesaler = models.ForeignKey(Wholesaler, on_delete=models.CASCADE, related_name="staff")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        verbose_name_plural = "wholesaler staff"

    def __str__(self) -> str:
        return f"{self.user} @ {self.wholesaler}"


class Merchant(models.Model):
    """The tenant: a shop business, with one or more stores, supplied by one wholesaler."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    wholesaler = models.ForeignKey(Wholesaler, on_delete=models.PROTECT, related_name="merchants")
    # The merchant's Stripe connected account (direct charges); empty until the owner connects.
    stripe_account = models.CharField(max_length=100, blank=True)
    # The owner decides whether managers see the shop in numbers (sales, margins, costs); owners always do.
    managers_see_analytics = models.BooleanField(default=True)
    # At the till: the largest discount a clerk may give, in per cent of what it is taken off (owners and
    # managers give any), and the first digits of the return slips the shop's bottle machine prints.
    clerk_discount_limit = models.PositiveSmallIntegerField(
        default=10, help_text="Per cent of the price a discount is taken off; 0: clerks give no discounts."
    )
    deposit_slip_prefix = models.CharField(
        max_length=3,
        blank=True,
        default="98",
        validators=[deposit_slip_prefix_validator],
        help_text="Return slips are EAN-13 codes starting with these digits; empty: none are taken.",
    )
    # The owner's choice: every member signs in with a second factor; whoever has none is sent to set one up.
    staff_two_step_required = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(clerk_discount_limit__lte=100), name="merchant_discount_limit_percent"),
        ]

    def __str__(self) -> str:
        return self.name


# German tax law (AO §147, GoBD) keeps books, inventories, receipts and invoices ten years: closing a
# merchant keeps the rows of a model that names this, stripped of personal data (merchants/closure.py).
TAX_RETENTION_YEARS = 10


class TenantModel(models.Model):
    """Base of every tenant-owned table: the merchant column row-level security keys on."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    # Extra row-level security clauses (merchants/rls.py): a column whose value, when the
    # request already knows it (a public store code, a token's hash), reveals that one row.
    rls_lookup_column: ClassVar[str | None] = None
    # A user column whose rows the signed-in user may see across merchants (their memberships).
    rls_user_column: ClassVar[str | None] = None
    # When the merchant is closed: years its rows are kept (0: deleted at once), and the columns of kept
    # rows that name a person, emptied (text) or cleared (nullable) when they are kept.
    retention_years: ClassVar[int] = 0
    personal_columns: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def opening_hours_validator(value: object) -> None:
    """{"mon": [["07:00", "22:00"]], "fri": [["07:00", "13:00"], ["15:00", "02:00"]]}; an interval may pass midnight."""
    if not isinstance(value, dict):
        raise ValidationError("Opening hours are a mapping of weekday to intervals.", code="invalid_hours")
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            raise ValidationError(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}.", code="invalid_hours")
        if not isinstance(intervals, list):
            raise ValidationError(f"{day}: give a list of [opens, closes] pairs.", code="invalid_hours")
        for interval in intervals:
            if (
                not isinstance(interval, list)
                or len(interval) != 2
                or not all(isinstance(t, str) and _TIME.match(t) for t in interval)
                or interval[0] == interval[1]
            ):
                raise ValidationError(
                    f'{day}: {interval!r} is not an interval like ["07:00", "22:00"].', code="invalid_hours"
                )


def _default_opening_hours() -> dict[str, list[list[str]]]:
    return {day: [["07:00", "22:00"]] for day in WEEKDAYS}


class Store(TenantModel):
    """One shop location. Its public code is what the entrance QR poster opens (/s/<code>/)."""

    name = models.CharField(max_length=200)
    # Unique across the platform: shoppers reach a store by code before any tenant is known.
    code = models.CharField(max_length=12, unique=True, validators=[RegexValidator(r"^[A-Z0-9]{4,12}$")])
    timezone = models.CharField(max_length=64, default="UTC", validators=[timezone_validator])
    currency = models.CharField(max_length=3, default="EUR", validators=[currency_validator])
    # Shelf prices in Europe include VAT; in the US they do not and tax is added at the till.
    prices_include_tax = models.BooleanField(default=True)
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="DE", validators=[RegexValidator(r"^[A-Z]{2}$")])
    # {"mon": [["07:00", "22:00"]], ...}: one or more open intervals a weekday, local time.
    opening_hours = models.JSONField(default=_default_opening_hours, validators=[opening_hours_validator])
    # The Stripe Terminal card reader at the till (server-driven integration); empty: none.
    stripe_reader = models.CharField(
        max_length=100, blank=True, validators=[RegexValidator(r"^tmr_[A-Za-z0-9]+$", "A reader id looks like tmr_…")]
    )
    # Printed on receipts (a German receipt names the shop's tax number or VAT id) and invoices.
    vat_id = models.CharField("VAT id", max_length=20, blank=True, validators=[vat_id_validator])
    tax_number = models.CharField(max_length=20, blank=True, validators=[tax_number_validator])
    receipt_footer = models.CharField(
        max_length=300,
        blank=True,
        help_text="Printed at the foot of every receipt, e.g. a thank-you or returns policy.",
    )
    # The owner's consent: the wholesaler's staff see this store's sales rate and stock on its orders.
    share_with_wholesaler = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    rls_lookup_column = "code"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "name"],
                name="store_unique_name_per_merchant",
                violation_error_message="This merchant already has a store with that name.",
            )
        ]
        indexes = [models.Index(fields=["merchant", "is_active"], name="store_merchant_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def address(self) -> str:
        return ", ".join(part for part in (self.street, f"{self.postal_code} {self.city}".strip()) if part)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    CLERK = "clerk", "Clerk"


# What each role may do. Views and API views name the permission they need; nothing else
# decides. Owners do everything; managers run the shop; clerks sell and count.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(
        {
            "view",
            "sell",
            "manage_stock",
            "manage_catalog",
            "manage_devices",
            "manage_staff",
            "manage_settings",
            "view_analytics",
        }
    ),
    Role.MANAGER: frozenset({"view", "sell", "manage_stock", "manage_catalog", "manage_devices", "view_analytics"}),
    Role.CLERK: frozenset({"view", "sell"}),
}


class Membership(TenantModel):
    """A user's role at a merchant."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=django_timezone.now)

    rls_user_column = "user_id"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} at merchant {self.merchant_id}"

    def has_permission(self, permission: str) -> bool:
        if permission == "view_analytics" and self.role == Role.MANAGER and not self.merchant.managers_see_analytics:
            return False
        return permission in ROLE_PERMISSIONS[self.role]


class Invitation(TenantModel):
    """An e-mailed link that makes its recipient staff; single use, expires."""

    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    rls_lookup_column = "token_hash"

    objects = InvitationQuerySet.as_manager()  # type: ignore[misc]  # a subclass of TenantModel's queryset; mypy reads it as an override

    class Meta:
        indexes = [models.Index(fields=["merchant", "email"], name="invitation_merchant_email")]
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_not_accepted_and_revoked",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} as {self.role}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= django_timezone.now():
            return "expired"
        return "pending"


class ApiToken(models.Model):
    """A staff member's personal API token. Only its SHA-256 is stored; shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DeviceKind(models.TextChoices):
    CAMERA = "camera", "Shelf camera"
    DOOR = "door", "Exit door reader"


class Device(TenantModel):
    """A machine that acts for one store with a token of its own: a shelf camera, a door reader."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=DeviceKind.choices, default=DeviceKind.CAMERA)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=django_timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    rls_lookup_column = "token_hash"

    objects = StoreScopedQuerySet.as_manager()  # type: ignore[misc]  # a subclass of TenantModel's queryset; mypy reads it as an override

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "store", "name"],
                name="device_unique_name_per_store",
                violation_error_message="This store already has a device with that name.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PlatformAccess(models.Model):
    """Audit trail of every use of the row-level security bypass (merchants.tenancy.platform_access)."""

    at = models.DateTimeField(default=django_timezone.now, db_index=True)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=300)

    class Meta:
        verbose_name_plural = "platform access log"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor}: {self.reason}"


class ClosureStatus(models.TextChoices):
    REQUESTED = "requested", "Requested by the owner"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXECUTED = "executed", "Closed by the platform"
    PURGED = "purged", "Tax records deleted after their retention"


class MerchantClosure(models.Model):
    """An owner's request to close the merchant, and the platform operator's execution of it (audited).

    Kept as long as the rows the closure kept, so that what happened to the shop's data can be shown.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="closures")
    status = models.CharField(max_length=10, choices=ClosureStatus.choices, default=ClosureStatus.REQUESTED)
    reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=django_timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The operator as the audit log (PlatformAccess) names them: a management command has no signed-in user.
    executed_by = models.CharField(max_length=200, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    retain_until = models.DateField(null=True, blank=True)
    # Per table: rows deleted, rows kept (and anonymised), files deleted.
    summary = models.JSONField(default=dict, blank=True)

    retention_years: ClassVar[int] = TAX_RETENTION_YEARS

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant"],
                condition=Q(status="requested"),
                name="merchant_closure_one_open_request",
                violation_error_message="This shop already has an open request to close it.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["executed", "purged"], executed_at__isnull=False)
                | ~Q(status__in=["executed", "purged"]),
                name="merchant_closure_executed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Closing of merchant {self.merchant_id} ({self.status})"


class AccountEventKind(models.TextChoices):
    TWO_STEP_ON = "two_step_on", "Two-step sign-in turned on"
    TWO_STEP_OFF = "two_step_off", "Two-step sign-in turned off"
    RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used to sign in"
    RECOVERY_CODES_RENEWED = "recovery_codes_renewed", "Recovery codes renewed"
    STAFF_TWO_STEP_REQUIRED = "staff_two_step_required", "Two-step sign-in required of a shop's staff"
    STAFF_TWO_STEP_OPTIONAL = "staff_two_step_optional", "Two-step sign-in no longer required of a shop's staff"


class AccountEvent(models.Model):
    """Audit log of changes to how an account signs in: its second factor, its recovery codes, a shop's rule.

    Not a tenant table: an account belongs to a person, who may work for several shops or for none.
    """

    at = models.DateTimeField(default=django_timezone.now)
    # Kept when the account is deleted: the log outlives it, with the name it had.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="account_events"
    )
    username = models.CharField(max_length=150)
    kind = models.CharField(max_length=30, choices=AccountEventKind.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "at"], name="account_event_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}: {self.get_kind_display()}"

"""Closing a merchant: the owner asks, the platform operator executes, and every row of theirs goes.

Every row of the merchant's tables (merchants.data_export.merchant_models: every model with a foreign key to
Merchant) is deleted, except those tax law keeps (a model's ``retention_years``: receipts and orders, the
stock ledger, cash shifts, counts, purchase orders), which stay, stripped of the personal data their model
names, until ``retain_until``; so do the rows a kept row cannot do without (its store, its products). Staff
who work for no other shop are anonymised and can no longer sign in. The deletion runs inside the merchant's
row-level security context, so however the cascades run, no other merchant's row can be reached.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from merchants import tenancy
from merchants.data_export import merchant_field, merchant_models, merchant_rows
from merchants.models import ClosureStatus, Membership, Merchant, MerchantClosure

logger = logging.getLogger("lingshou.closure")


@dataclass(frozen=True)
class ClosurePlan:
    """Which of the merchant's tables are kept and which deleted, in an order that deletes referrers first."""

    kept: tuple[type[models.Model], ...]
    deleted: tuple[type[models.Model], ...]


def _refers(model: type[models.Model], target: type[models.Model], *, required_only: bool = False) -> bool:
    return any(
        field.is_relation and field.related_model is target and not (required_only and field.null)
        for field in model._meta.concrete_fields
    )


def closure_plan() -> ClosurePlan:
    """The plan for the installed models: kept are the tax records and, transitively, what they require."""
    owned = merchant_models()
    kept = {model for model in owned if getattr(model, "retention_years", 0)}
    grown = True
    while grown:
        # A kept row's required reference must stay, or deleting its target would cascade into the kept row.
        required = {target for target in owned for model in kept if _refers(model, target, required_only=True)}
        grown = not required <= kept
        kept |= required
    return ClosurePlan(
        kept=_referrers_first([model for model in owned if model in kept]),
        deleted=_referrers_first([model for model in owned if model not in kept]),
    )


def _referrers_first(remaining: list[type[models.Model]]) -> tuple[type[models.Model], ...]:
    """The models in an order that deletes a table's referring rows before the rows they refer to."""
    ordered: list[type[models.Model]] = []
    while remaining:
        ready = [m for m in remaining if not any(o is not m and _refers(o, m) for o in remaining)]
        if not ready:
            raise RuntimeError(f"the merchant's tables refer to each other in a cycle: {remaining}")
        ordered.extend(ready)
        remaining = [model for model in remaining if model not in ready]
    return tuple(ordered)


class ClosureError(Exception):
    """A closing that cannot go ahead; the message says why."""


def merchant_close_request(*, merchant: Merchant, user: Any, reason: str) -> MerchantClosure:
    """Record the owner's request to close the merchant; at most one is open at a time."""
    with tenancy.merchant_context(merchant.pk, user_id=user.pk):
        try:
            with transaction.atomic():
                closure = MerchantClosure.objects.create(merchant=merchant, requested_by=user, reason=reason[:500])
        except IntegrityError:
            raise ValidationError("This shop already has an open request to close it.", code="open") from None
    logger.info("merchant_close_requested", extra={"merchant_id": merchant.pk, "closure_id": closure.pk})
    return closure


def merchant_close_withdraw(*, merchant: Merchant, closure_id: int) -> bool:
    """Withdraw the merchant's open request; False when there is none with that id (or it was executed)."""
    with tenancy.merchant_context(merchant.pk):
        changed = MerchantClosure.objects.filter(
            merchant=merchant, pk=closure_id, status=ClosureStatus.REQUESTED
        ).update(status=ClosureStatus.WITHDRAWN, withdrawn_at=timezone.now())
    return bool(changed)


def merchant_closure_open(*, merchant: Merchant) -> MerchantClosure | None:
    """The merchant's open request to close it, if any."""
    with tenancy.merchant_reads(merchant.pk):
        return MerchantClosure.objects.filter(merchant=merchant, status=ClosureStatus.REQUESTED).first()


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _staff_to_anonymise(merchant: Merchant) -> list[int]:
    """Members of this merchant who are nobody else's staff (read past row-level security, to see other shops)."""
    user_ids = set(Membership.objects.filter(merchant=merchant).values_list("user_id", flat=True))
    elsewhere = set(
        Membership.objects.filter(user_id__in=user_ids).exclude(merchant=merchant).values_list("user_id", flat=True)
    )
    users = get_user_model().objects.filter(pk__in=user_ids - elsewhere, is_staff=False, is_superuser=False)
    return list(users.filter(wholesaler_staff__isnull=True).values_list("pk", flat=True))


def _anonymise_users(user_ids: list[int]) -> None:
    for user in get_user_model().objects.filter(pk__in=user_ids):
        user.username = f"closed-user-{user.pk}"
        user.email = ""
        user.first_name = ""
        user.last_name = ""
        user.is_active = False
        # Changes the session hash too, so every open session of theirs ends.
        user.set_unusable_password()
        user.save()


def _file_names(model: type[models.Model], merchant: Merchant) -> list[str]:
    names: list[str] = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.FileField):
            rows = merchant_rows(model, merchant).exclude(**{field.attname: ""})
            names.extend(rows.exclude(**{f"{field.attname}__isnull": True}).values_list(field.attname, flat=True))
    return names


def _apply(plan: ClosurePlan, merchant: Merchant) -> tuple[dict[str, dict[str, int]], list[str]]:
    summary: dict[str, dict[str, int]] = {}
    files: list[str] = []
    deleted = set(plan.deleted)
    for model in plan.kept:
        rows = merchant_rows(model, merchant)
        cleared: dict[str, Any] = {}
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model in deleted and field.null:
                cleared[field.name] = None
        for name in getattr(model, "personal_columns", ()):
            personal = model._meta.get_field(name)
            cleared[name] = None if personal.null else ""
        if cleared:
            rows.update(**cleared)
        summary[model._meta.label] = {"kept": rows.count()}
    for model in plan.deleted:
        files.extend(_file_names(model, merchant))
        _count, per_model = model._base_manager.filter(**{merchant_field(model): merchant}).delete()
        for label, count in per_model.items():
            entry = summary.setdefault(label, {})
            entry["deleted"] = entry.get("deleted", 0) + count
    return summary, files


def merchant_close_execute(*, closure_id: int, operator: str) -> MerchantClosure:
    """Execute an owner's open request (the operator's confirmation): atomic, audited, and touching no row of
    another merchant; tax records stay, anonymised, until ``retain_until``."""
    if not operator.strip():
        raise ClosureError("Name the operator who confirms the closing; it goes into the audit log.")
    plan = closure_plan()
    with tenancy.platform_access(reason=f"close merchant: request {closure_id}", actor=operator):
        closure = MerchantClosure.objects.select_for_update().filter(pk=closure_id).first()
        if closure is None:
            raise ClosureError(f"There is no request {closure_id} to close a shop.")
        if closure.status != ClosureStatus.REQUESTED:
            raise ClosureError(f"Request {closure_id} is {closure.get_status_display().lower()}, not open.")
        merchant = Merchant.objects.select_for_update().get(pk=closure.merchant_id)
        user_ids = _staff_to_anonymise(merchant)
        with tenancy.merchant_context(merchant.pk):
            summary, files = _apply(plan, merchant)
        _anonymise_users(user_ids)
        Merchant.objects.filter(pk=merchant.pk).update(is_active=False)
        now = timezone.now()
        closure.status = ClosureStatus.EXECUTED
        closure.executed_by = operator[:200]
        closure.executed_at = now
        years = max(getattr(model, "retention_years", 0) for model in plan.kept)
        closure.retain_until = _years_after(now.date(), years)
        closure.summary = {"tables": summary, "files_deleted": len(files), "users_anonymised": len(user_ids)}
        closure.save()
        # Files go only once the rows are gone for good; a rolled-back closing keeps them.
        transaction.on_commit(lambda: _files_delete(files))
    logger.info("merchant_closed", extra={"merchant_id": merchant.pk, "closure_id": closure.pk, "operator": operator})
    return closure


def _files_delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("merchant_close_file_not_deleted", extra={"file": name})


def merchant_retained_purge(*, operator: str, today: date | None = None) -> list[int]:
    """Delete the tax records of every closed merchant whose retention has ended; atomic per merchant,
    idempotent (a purged closing is not due again), audited. Returns the purged closings' ids."""
    today = today or timezone.localdate()
    purged = []
    plan = closure_plan()
    with tenancy.platform_access(reason="purge closed shops' tax records past their retention", actor=operator):
        due = list(
            MerchantClosure.objects.filter(status=ClosureStatus.EXECUTED, retain_until__lte=today).values_list(
                "pk", "merchant_id"
            )
        )
    for closure_id, merchant_id in due:
        with tenancy.platform_access(reason=f"purge tax records: request {closure_id}", actor=operator):
            closure = MerchantClosure.objects.select_for_update().get(pk=closure_id)
            if closure.status != ClosureStatus.EXECUTED:
                continue
            merchant = Merchant.objects.get(pk=merchant_id)
            deleted: dict[str, int] = {}
            with tenancy.merchant_context(merchant.pk):
                for model in plan.kept:
                    if model is MerchantClosure:
                        continue
                    _count, per_model = merchant_rows(model, merchant).delete()
                    for label, count in per_model.items():
                        deleted[label] = deleted.get(label, 0) + count
            closure.status = ClosureStatus.PURGED
            closure.summary = {**closure.summary, "purged_at": timezone.now().isoformat(), "purged": deleted}
            closure.save(update_fields=["status", "summary"])
        purged.append(closure_id)
        logger.info("merchant_retained_purged", extra={"merchant_id": merchant_id, "closure_id": closure_id})
    return purged

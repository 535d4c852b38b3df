"""What an analytics page is about: which of the merchant's stores, which period, compared with which."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.http import Http404
from django.utils import timezone

from analytics.periods import PeriodChoice, PeriodForm, default_choice, period_picker, store_today
from core.http import MerchantRequest
from merchants.models import Store
from merchants.selectors import store_list


@dataclass(frozen=True)
class Scope:
    stores: list[Store]  # the chosen stores
    every_store: list[Store]  # the merchant's stores, for the picker
    zone: ZoneInfo
    today: dt.date  # the first chosen store's local date
    form: PeriodForm
    choice: PeriodChoice | None  # None when the period asked for was refused (the form says why)
    picker: dict[str, object]

    @property
    def currency(self) -> str:
        return self.stores[0].currency

    @property
    def chosen_ids(self) -> set[int]:
        return {store.pk for store in self.stores}


def scope_get(request: MerchantRequest) -> Scope:
    """The stores in ``?store=`` (one or several ids; all of the merchant's when none: 404 for any that is not
    theirs) and the period of the picker's parameters, in the first chosen store's days."""
    every = list(store_list(merchant=request.merchant))
    if not every:
        raise Http404("This shop has no store yet.")
    wanted = request.GET.getlist("store")
    by_id = {str(store.pk): store for store in every}
    if any(value not in by_id for value in wanted):
        raise Http404("No such store.")
    stores = [by_id[value] for value in dict.fromkeys(wanted)] or every
    # Stores of one merchant share a time zone in practice; the first chosen store's sets "today".
    zone = ZoneInfo(stores[0].timezone)
    today = store_today(zone, now=timezone.now())
    asked = any(key in request.GET for key in ("period", "compare", "start", "end"))
    form = PeriodForm(request.GET if asked else None, today=today)
    choice = form.choice if asked and form.is_valid() else (None if asked else default_choice(today=today))
    if not asked:
        form.choice = choice
    keep = {"store": wanted[0]} if len(wanted) == 1 else {}
    return Scope(
        stores=stores,
        every_store=every,
        zone=zone,
        today=today,
        form=form,
        choice=choice,
        picker=period_picker(form, keep=keep),
    )

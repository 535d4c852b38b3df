"""What an analytics page is about: which of the merchant's stores, which period, compared with which."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404
from django.utils import timezone

from analytics.periods import PeriodChoice, PeriodForm, default_choice, period_picker, store_today
from core.http import MerchantRequest
from merchants.models import Store
from merchants.selectors import store_list

# Names of stores the picker's closed summary (and a currency refusal) spells out; more read "5 of 12 stores".
NAMES_SHOWN = 3


class MixedCurrencies(ValueError):
    """Figures of stores that sell in different currencies were about to be added up."""


@dataclass(frozen=True)
class Scope:
    stores: list[Store]  # the chosen stores
    every_store: list[Store]  # the merchant's stores, for the picker
    zone: ZoneInfo
    today: dt.date  # the first chosen store's local date
    form: PeriodForm
    # None when the period asked for was refused (the form says why), or the chosen stores' currencies differ on
    # a page that adds them up (currency_error says why): either way the page shows no figures.
    choice: PeriodChoice | None
    picker: dict[str, object]
    stores_picker: dict[str, object]
    currency_error: str = ""

    @property
    def currency(self) -> str:
        """The chosen stores' one currency; never a sum of euros and pounds, even if a page forgot to look."""
        problem = currency_problem(self.stores)
        if problem:
            raise MixedCurrencies(problem)
        return self.stores[0].currency


def stores_chosen(
    request: MerchantRequest, *, every: list[Store] | None = None
) -> tuple[list[Store], list[Store], list[str]]:
    """The merchant's stores (``every``, when the page has read them already); those in ``?store=`` (all when
    none: 404 for any that is not theirs), in the merchant's order whatever the URL's, so that pages and the
    picker list them alike; and the ids as asked."""
    if every is None:
        every = list(store_list(merchant=request.merchant))
    if not every:
        raise Http404("This shop has no store yet.")
    wanted = list(dict.fromkeys(request.GET.getlist("store")))
    if not set(wanted) <= {str(store.pk) for store in every}:
        raise Http404("No such store.")
    return every, [store for store in every if str(store.pk) in wanted] or every, wanted


def currency_problem(stores: list[Store]) -> str:
    """Why these stores' money cannot be added up (their currencies differ), or "" when it can."""
    by_currency: dict[str, list[str]] = {}
    for store in stores:
        by_currency.setdefault(store.currency, []).append(store.name)
    if len(by_currency) < 2:
        return ""
    listed = "; ".join(
        f"{currency}: {', '.join(names) if len(names) <= NAMES_SHOWN else f'{len(names)} stores'}"
        for currency, names in sorted(by_currency.items())
    )
    return (
        f"The chosen stores sell in different currencies ({listed}), and their figures cannot be added up. "
        "Choose stores that share one currency, or compare them on Stores side by side, each in its own."
    )


def stores_picker(
    *, every: list[Store], chosen: list[Store], keep: list[tuple[str, str]], error: str = ""
) -> dict[str, object]:
    """What templates/components/stores_picker.html shows: a box per store (ticked if chosen), a summary of
    the choice, the page's other parameters to carry (``keep``) and why the choice was refused, if it was."""
    ids = {store.pk for store in chosen}
    is_all = len(ids) == len(every)
    names = [store.name for store in chosen]
    if is_all:
        label = "All stores"
    elif len(names) <= NAMES_SHOWN:
        label = ", ".join(names)
    else:
        label = f"{len(names)} of {len(every)} stores"
    return {
        "stores": [{"id": store.pk, "name": store.name, "is_chosen": store.pk in ids} for store in every],
        "is_all": is_all,
        "label": label,
        "keep": keep,
        "all_query": urlencode(keep),
        "error": error,
    }


def scope_get(request: MerchantRequest, *, across_currencies: bool = False, every: list[Store] | None = None) -> Scope:
    """The stores in ``?store=`` (one or several ids; all of the merchant's when none: 404 for any that is not
    theirs) and the period of the picker's parameters, in the first chosen store's days.

    Stores whose currencies differ are refused (``choice`` None, ``currency_error`` says why) unless the page
    shows each store in its own currency or no money at all (``across_currencies``). ``every``: the merchant's
    stores (store_list), when the page has read them already.
    """
    every, stores, wanted = stores_chosen(request, every=every)
    # Stores of one merchant share a time zone in practice; the first chosen store's sets "today".
    zone = ZoneInfo(stores[0].timezone)
    today = store_today(zone, now=timezone.now())
    asked = any(key in request.GET for key in ("period", "compare", "start", "end"))
    form = PeriodForm(request.GET if asked else None, today=today)
    choice = form.choice if asked and form.is_valid() else (None if asked else default_choice(today=today))
    if not asked:
        form.choice = choice
    error = "" if across_currencies else currency_problem(stores)
    # The period picker's links carry the stores; the stores picker's form carries everything else on the page.
    others = [(key, value) for key, values in request.GET.lists() if key not in ("store", "export") for value in values]
    return Scope(
        stores=stores,
        every_store=every,
        zone=zone,
        today=today,
        form=form,
        choice=None if error else choice,
        picker=period_picker(form, keep=[("store", value) for value in wanted]),
        stores_picker=stores_picker(every=every, chosen=stores, keep=others, error=error),
        currency_error=error,
    )

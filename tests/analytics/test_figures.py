"""Headline tiles: values in the store's locale, the change in percent, and its colour by what is good."""

from __future__ import annotations

from analytics.figures import tiles
from analytics.selectors.sales import SalesSummary


def _summary(net_sales: int, refunds: int) -> SalesSummary:
    return SalesSummary(
        net_sales=net_sales, tax=0, refunds=refunds, cost=net_sales // 2, net_sales_known_cost=net_sales,
        transactions=10, units=20,
    )  # fmt: skip


def test_a_change_is_good_or_bad_by_what_it_means() -> None:
    shown = {tile.key: tile for tile in tiles(_summary(1200, 300), _summary(1000, 100), "EUR")}
    assert (shown["net_sales"].value, shown["net_sales"].change, shown["net_sales"].tone) == (
        "12,00\xa0€",
        "+20\xa0%",
        "good",
    )
    # More refunds than before is bad news, though the figure went up.
    assert (shown["refunds"].change, shown["refunds"].tone) == ("+200\xa0%", "bad")
    assert (shown["gross_margin"].value, shown["gross_margin"].note) == ("6,00\xa0€", "50,0\xa0% of net sales")
    part = SalesSummary(net_sales=1000, tax=0, refunds=0, cost=300, net_sales_known_cost=750, transactions=1, units=1)
    [_net, margin, *_rest] = tiles(part, None, "EUR")
    # Margin only over the sales whose cost is known, and saying how much of the sales that is.
    assert (margin.value, margin.note) == ("4,50\xa0€", "60,0\xa0% of net sales with a known cost (75\xa0% of them)")
    fewer = {tile.key: tile for tile in tiles(_summary(800, 0), _summary(1000, 100), "EUR")}
    assert (fewer["net_sales"].change, fewer["net_sales"].tone) == ("-20\xa0%", "bad")
    assert (fewer["refunds"].change, fewer["refunds"].tone) == ("-100\xa0%", "good")
    nothing = {tile.key: tile for tile in tiles(_summary(800, 0), None, "EUR")}
    assert (nothing["net_sales"].change, nothing["net_sales"].tone, nothing["transactions"].value) == ("", "", "10")

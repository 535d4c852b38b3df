"""Forecasts: the intermittent-demand recursions by hand, censored days, weekdays, new products."""

import numpy as np
import pytest

from ordering.forecasting import demand_forecast
from ordering.forecasting.intermittent import croston, sba, tsb


def test_croston_and_sba_follow_the_recursion_by_hand():
    y = np.array([[0, 0, 3, 0, 0, 0, 2.0]])
    # First demand (day 3) sets size 3 and interval 3; the next (4 days later) smooths them:
    # size 3 + 0.1·(2 − 3) = 2.9, interval 3 + 0.1·(4 − 3) = 3.1.
    assert croston(y, alpha=0.1)[0] == pytest.approx(2.9 / 3.1)
    assert sba(y, alpha=0.1)[0] == pytest.approx(0.95 * 2.9 / 3.1)


def test_croston_skips_censored_days_instead_of_counting_them_as_no_sale():
    with_gap = np.array([[0, 0, 3, np.nan, np.nan, 0, 0, 0, 2.0]])
    as_zero = np.nan_to_num(with_gap)
    assert croston(with_gap)[0] == pytest.approx(croston(np.array([[0, 0, 3, 0, 0, 0, 2.0]]))[0])
    assert croston(as_zero)[0] < croston(with_gap)[0]


def test_tsb_follows_the_recursion_by_hand():
    y = np.array([[0, 2, 0, 4.0]])
    # Starts from the series' averages: probability 2/4, size 3.
    probability, size = 0.5, 3.0
    for value in y[0]:
        probability += 0.1 * ((value > 0) - probability)
        if value > 0:
            size += 0.1 * (value - size)
    assert tsb(y, alpha_demand=0.1, alpha_probability=0.1)[0] == pytest.approx(probability * size)
    assert probability * size == pytest.approx(0.50905 * 3.01)


def test_series_without_any_demand_forecast_zero():
    y = np.zeros((2, 30))
    assert croston(y).tolist() == [0.0, 0.0]
    assert tsb(y).tolist() == [0.0, 0.0]


def test_stock_out_days_are_not_read_as_zero_demand():
    rng = np.random.default_rng(1)
    sales = rng.poisson(4.0, (1, 120)).astype(float)
    censored = np.zeros_like(sales, dtype=bool)
    censored[0, 60::3] = True  # every third day out of stock for the last two months
    sales[censored] = 0.0
    skipped = demand_forecast(sales, censored, first_weekday=0, horizon=7)
    as_zero = demand_forecast(sales, np.zeros_like(censored), first_weekday=0, horizon=7)
    assert skipped.mean.mean() == pytest.approx(4.0, rel=0.15)
    assert as_zero.mean.mean() < 0.9 * skipped.mean.mean()


def test_weekday_pattern_is_followed():
    rng = np.random.default_rng(2)
    weekday = np.arange(140) % 7  # column 0 is a Monday
    rate = np.where(weekday == 5, 15.0, 5.0)  # Saturdays sell three times as much
    sales = rng.poisson(rate, (3, 140)).astype(float)
    forecast = demand_forecast(sales, np.zeros_like(sales, dtype=bool), first_weekday=0, horizon=7)
    # 140 days end on a Sunday, so the horizon starts on Monday and day 5 is Saturday.
    saturday = forecast.mean[:, 5]
    others = np.delete(forecast.mean, 5, axis=1).mean(axis=1)
    assert np.all(saturday / others == pytest.approx(3.0, rel=0.2))
    assert np.all(others == pytest.approx(5.0, rel=0.15))


def test_new_product_borrows_its_category_level():
    rng = np.random.default_rng(3)
    days = 100
    sales = np.vstack([rng.poisson(6.0, (8, days)), rng.poisson(0.5, (8, days)), np.zeros((3, days))]).astype(float)
    sales[16:18, :] = np.nan  # listed today, nothing known yet
    sales[18, :-1] = np.nan  # listed yesterday, sold nothing
    category = np.array([0] * 8 + [1] * 8 + [0, 1, 0])
    forecast = demand_forecast(sales, np.zeros_like(sales, dtype=bool), first_weekday=0, category=category)
    level = forecast.level
    assert level is not None
    assert level[16] == pytest.approx(level[:8].mean(), rel=0.1)
    assert level[17] == pytest.approx(level[8:16].mean(), rel=0.2)
    assert 5.0 < level[16] < 7.0
    assert 0.3 < level[17] < 0.7
    # One observed day weighs as much as the category: half way from 6 towards the zero it sold.
    assert level[18] == pytest.approx(level[16] / 2, rel=0.05)


def test_chain_wide_promotion_lifts_the_forecast_in_every_store():
    rng = np.random.default_rng(4)
    sales = rng.poisson(3.0, (20, 90)).astype(float)
    sales[:, -3:] = rng.poisson(9.0, (20, 3))  # the product is on promotion everywhere since three days
    censored = np.zeros_like(sales, dtype=bool)
    pooled = demand_forecast(sales, censored, first_weekday=0, product=np.zeros(20, dtype=int), store=np.arange(20))
    alone = demand_forecast(sales, censored, first_weekday=0)
    assert pooled.mean[:, 0].mean() > 1.3 * alone.mean[:, 0].mean()


def test_forecast_shapes_and_sigma():
    sales = np.random.default_rng(5).poisson(2.0, (50, 60)).astype(float)
    sales[:10, :30] = np.nan
    forecast = demand_forecast(sales, np.zeros_like(sales, dtype=bool), first_weekday=3, horizon=10)
    assert forecast.mean.shape == (50, 10)
    assert forecast.sigma.shape == (50,)
    assert np.all(forecast.mean >= 0)
    # Poisson(2) has a one-day spread of about 1.4; the error's spread cannot be much below it.
    assert np.all(forecast.sigma > 1.0)
    assert forecast.method == "lingshou-tsb-dow"


def _chain(weeks: int, promotion_weekday: int | None, *, seed: int = 6, last_week_promoted: bool = False):
    """12 stores × 30 products over whole weeks (day 0 a Monday); some products on promotion for
    whole weeks that start on ``promotion_weekday`` (none if None), the same weeks in every store."""
    rng = np.random.default_rng(seed)
    stores, products, days = 12, 30, 7 * weeks
    rate = np.exp(rng.normal(np.log(2.0), 0.5, products))
    lift = np.ones((products, days))
    if promotion_weekday is not None:
        for p in range(products):
            for start in range(promotion_weekday, days - 7, 7):
                if rng.random() < 0.1:
                    lift[p, start : start + 7] = rng.uniform(1.8, 2.5)
        if last_week_promoted:
            lift[0, -7:] = 2.5  # product 0 on promotion in the last week
    product = np.tile(np.arange(products), stores)
    sales = rng.poisson(rate[product, None] * lift[product]).astype(float)
    return sales, np.zeros_like(sales, dtype=bool), product, np.repeat(np.arange(stores), products)


@pytest.mark.parametrize("weekday", [0, 2, 5])
def test_promotion_weeks_are_read_from_the_history(weekday):
    sales, censored, product, store = _chain(26, weekday)
    forecast = demand_forecast(sales, censored, first_weekday=0, product=product, store=store)
    assert forecast.promotion_week_start == weekday


def test_no_promotion_calendar_without_weekly_promotions():
    for seed in (6, 7, 8):
        sales, censored, product, store = _chain(26, None, seed=seed)
        forecast = demand_forecast(sales, censored, first_weekday=0, product=product, store=store)
        assert forecast.promotion_week_start is None
    # Nor for one store's products alone: there is no chain to read it from.
    sales, censored, product, store = _chain(26, 0)
    assert demand_forecast(sales, censored, first_weekday=0).promotion_week_start is None


def test_a_promotion_is_carried_to_the_end_of_its_week_and_no_further():
    # 26 weeks from a Monday, product 0 on promotion in the last week.
    sales, censored, product, store = _chain(26, 0, last_week_promoted=True)
    sales = sales[:, :-4]  # the history ends on Wednesday evening: Thursday to Sunday of the week remain
    forecast = demand_forecast(sales, censored[:, :-4], first_weekday=0, product=product, store=store, horizon=7)
    assert forecast.promotion_week_start == 0
    on_promotion = product == 0
    level = forecast.mean[on_promotion] / forecast.profile[on_promotion][:, [3, 4, 5, 6, 0, 1, 2]]
    this_week, next_week = level[:, :4].mean(), level[:, 4:].mean()
    assert this_week > 1.8 * next_week  # Thursday to Sunday lifted, from Monday the usual level
    others = forecast.mean[~on_promotion]
    assert others[:, :4].mean() == pytest.approx(others[:, 4:].mean(), rel=0.2)  # nothing to drop


def test_a_planned_lift_raises_the_days_it_covers_and_no_others():
    sales = np.random.default_rng(9).poisson(3.0, (4, 84)).astype(float)
    censored = np.zeros_like(sales, dtype=bool)
    plain = demand_forecast(sales, censored, first_weekday=0, horizon=5)
    planned = np.ones((4, 5))
    planned[1, 2:4] = 2.0
    lifted = demand_forecast(sales, censored, first_weekday=0, horizon=5, planned_lift=planned)
    assert lifted.mean[1, 2:4] == pytest.approx(2.0 * plain.mean[1, 2:4])
    assert lifted.mean[1, [0, 1, 4]] == pytest.approx(plain.mean[1, [0, 1, 4]])
    assert lifted.mean[[0, 2, 3]] == pytest.approx(plain.mean[[0, 2, 3]])
    # A plan is not what the sales show: the reported lift stays the observed one.
    planned[:, 0] = 3.0
    assert demand_forecast(sales, censored, first_weekday=0, horizon=5, planned_lift=planned).lift == pytest.approx(
        plain.lift
    )

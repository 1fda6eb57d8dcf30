"""The owner's dashboard: sales figures for a period, a daily revenue chart, supplier deposits."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template, request
from flask_babel import format_date

from merchant.core.money import Money, exponent, symbol
from merchant.ops import api_share, saldo_figures, sales
from merchant.web.admin import bp, owner_only

# The chart's drawing box (SVG user units); it scales to the page width.
WIDTH, HEIGHT = 320, 180
LEFT, BOTTOM, TOP_GAP = 56, 20, 8


@bp.get("/dashboard")
@owner_only
def dashboard():
    """Revenue, orders, delivery success and margin for today / 7 / 30 days."""
    key = request.args.get("period", "7d")
    if key not in sales.PERIODS:
        abort(404)
    figures = sales.figures(key)
    charts = [chart(currency, days) for currency, days in figures.daily.items()]
    return render_template("admin/dashboard.html", figures=figures, charts=charts,
                           periods=sales.PERIODS,
                           saldo=saldo_figures.figures(sales.PERIODS[key][0]),
                           api=api_share.of_period(figures.period))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str                      # "Sun 06 Dec: Rp 59.000": read by screen readers, and
    amount: int                     # listed under the chart for the days with sales


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    currency: str
    total: str
    width: int
    height: int
    left: int
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]               # y axis
    dates: list[tuple[float, str, str]]  # x axis: (x, label, text-anchor)


def chart(currency: str, days: list[sales.Day]) -> Chart:
    """Bars for a daily revenue series, scaled to a round maximum, for the SVG template."""
    top = nice_ceiling(max(day.amount for day in days))
    plot = HEIGHT - BOTTOM - TOP_GAP
    baseline = HEIGHT - BOTTOM
    step = (WIDTH - LEFT) / len(days)
    bars, dates = [], []
    for i, day in enumerate(days):
        height = plot * day.amount / top
        x = LEFT + i * step
        label = f"{format_date(day.date, 'EEE dd MMM')}: {Money(day.amount, currency).format()}"
        bars.append(Bar(round(x + 1, 2), round(baseline - height, 2), round(step - 2, 2),
                        round(height, 2), label, day.amount))
        if i == len(days) - 1:                  # today, kept inside the right edge
            dates.append((WIDTH, format_date(day.date, "dd MMM"), "end"))
        elif (len(days) - 1 - i) % 7 == 0 and i > 1:     # every 7th day before it
            dates.append((round(x + step / 2, 2), format_date(day.date, "dd MMM"), "middle"))
    ticks = [Tick(round(baseline - plot * part / 4, 2), short_money(top * part // 4, currency))
             for part in range(5)]
    total = Money(sum(day.amount for day in days), currency).format()
    return Chart(currency, total, WIDTH, HEIGHT, LEFT, baseline, bars, ticks, dates)


def nice_ceiling(amount: int) -> int:
    """The smallest 1, 2, 4, 6 or 8 times a power of ten that is at least `amount` (min 4):
    its quarters, the axis labels, are round numbers too."""
    if amount <= 4:
        return 4
    magnitude = 10 ** (len(str(amount)) - 1)
    return next(top for nice in (10, 20, 40, 60, 80, 100)
                if (top := nice * magnitude // 10) >= amount)


def short_money(amount: int, currency: str) -> str:
    """'Rp 1.5M', '$250k', '0': an axis label that fits beside the chart."""
    whole = amount / 10 ** exponent(currency)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if whole >= size:
            text = f"{whole / size:.1f}".removesuffix(".0") + suffix
            break
    else:
        text = f"{whole:g}"
    sign = symbol(currency)
    return f"{sign}{' ' if sign[-1:].isalpha() else ''}{text}" if amount else "0"

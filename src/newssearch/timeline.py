"""The timeline above the results: one bar per month (or year) of the histogram."""

from __future__ import annotations

from dataclasses import dataclass

from newssearch.dates import MONTHS
from newssearch.records import Period

BAR_WIDTH = 26   # px: a 24-px target and a gap, as WCAG's target size asks
HEIGHT = 64      # px of the tallest bar


@dataclass(frozen=True)
class Bar:
    x: int
    height: int
    count: int
    label: str   # « décembre 2019 » or « 2019 »
    period: str  # what from= and to= take: 2019-12 or 2019


def period_label(period: str) -> str:
    """« décembre 2019 » for 2019-12, « 2019 » for 2019."""
    if len(period) == 7:
        return f"{MONTHS[int(period[5:]) - 1]} {period[:4]}"
    return period


def bars(histogram: tuple[Period, ...]) -> list[Bar]:
    """Bars scaled to the busiest period; an empty period has no bar."""
    top = max((p.count for p in histogram), default=0) or 1
    return [Bar(i * BAR_WIDTH, max(2, round(HEIGHT * p.count / top)) if p.count else 0,
                p.count, period_label(p.period), p.period)
            for i, p in enumerate(histogram)]

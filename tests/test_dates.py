"""Dates as people type them, and the period presets."""

from __future__ import annotations

from datetime import date

import pytest

from newssearch import dates


@pytest.mark.parametrize(("typed", "start", "end"), [
    ("2020", date(2020, 1, 1), date(2020, 12, 31)),
    ("2020-06", date(2020, 6, 1), date(2020, 6, 30)),
    ("2020-6", date(2020, 6, 1), date(2020, 6, 30)),
    ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),  # a leap year's February
    ("2020-06-15", date(2020, 6, 15), date(2020, 6, 15)),
    ("15/06/2020", date(2020, 6, 15), date(2020, 6, 15)),
    ("5/6/2020", date(2020, 6, 5), date(2020, 6, 5)),
    ("15.06.2020", date(2020, 6, 15), date(2020, 6, 15)),
    ("06/2020", date(2020, 6, 1), date(2020, 6, 30)),
    (" 2020 ", date(2020, 1, 1), date(2020, 12, 31)),
])
def test_a_day_a_month_or_a_year(typed, start, end):
    assert dates.parse(typed) == start
    assert dates.parse(typed, end=True) == end


@pytest.mark.parametrize("typed", ["hier", "31/02/2020", "2020-13", "13/2020", "2020-02-30",
                                   "06/15/2020", "20", "0000", "2020/06/15", "１２/２０２０"])
def test_what_is_not_a_date_is_refused(typed):
    with pytest.raises(ValueError):
        dates.parse(typed)


def test_nothing_typed_is_no_date():
    assert dates.parse("") is None and dates.parse("  ", end=True) is None


@pytest.mark.parametrize(("name", "today", "first"), [
    ("24h", date(2024, 3, 10), date(2024, 3, 9)),  # articles are dated by the day
    ("semaine", date(2024, 3, 10), date(2024, 3, 3)),
    ("mois", date(2024, 3, 10), date(2024, 2, 10)),
    ("mois", date(2024, 3, 31), date(2024, 2, 29)),  # no 31 February
    ("mois", date(2024, 1, 15), date(2023, 12, 15)),
    ("annee", date(2024, 3, 10), date(2023, 3, 10)),
    ("annee", date(2024, 2, 29), date(2023, 2, 28)),
])
def test_presets_count_back_from_today(name, today, first):
    assert dates.preset(name, today=today) == first


@pytest.mark.parametrize(("start", "end", "label"), [
    (date(2019, 1, 1), date(2023, 12, 31), "Du 1er janvier 2019 au 31 décembre 2023"),
    (date(2020, 6, 15), None, "Depuis le 15 juin 2020"),
    (None, date(2020, 8, 1), "Jusqu’au 1er août 2020"),
    (None, None, ""),
])
def test_period_labels(start, end, label):
    assert dates.period_label(start, end) == label

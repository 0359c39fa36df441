"""Dates as people type them: ``2020``, ``2020-06``, ``15/06/2020``; period presets."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
# period=… : the last 24 hours, week, month or year up to today (link text, chip text).
# Articles are dated by the day: the last 24 hours are yesterday and today.
PRESETS = {"24h": ("24 heures", "Dernières 24 heures"),
           "semaine": ("semaine", "Dernière semaine"),
           "mois": ("mois", "Dernier mois"),
           "annee": ("année", "Dernière année")}

_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", re.ASCII)
_FRENCH = re.compile(r"(?:(\d{1,2})[/.])?(\d{1,2})[/.](\d{4})", re.ASCII)


def parse(raw: str, end: bool = False) -> date | None:
    """Read a day, a month or a year; a month or year is its first day, or last if ``end``.

    Raises ValueError for anything else, or a day that does not exist.
    """
    raw = raw.strip()
    if not raw:
        return None
    if m := _ISO.fullmatch(raw):
        year, month, day = m.group(1), m.group(2), m.group(3)
    elif m := _FRENCH.fullmatch(raw):
        day, month, year = m.group(1), m.group(2), m.group(3)
    else:
        raise ValueError(raw)
    y = int(year)
    if not 1 <= y <= 9999:
        raise ValueError(raw)
    if month is None:
        return date(y, 12, 31) if end else date(y, 1, 1)
    mo = int(month)
    if day is None:
        if not 1 <= mo <= 12:
            raise ValueError(raw)
        return date(y, mo, calendar.monthrange(y, mo)[1]) if end else date(y, mo, 1)
    return date(y, mo, int(day))


def preset(name: str, today: date | None = None) -> date:
    """The first day of a preset period ending today: the same day a week, month or year ago."""
    today = today or date.today()
    if name == "24h":
        return today - timedelta(days=1)
    if name == "semaine":
        return today - timedelta(days=7)
    year, month = (today.year, today.month - 1) if name == "mois" else (today.year - 1,
                                                                         today.month)
    if month == 0:
        year, month = year - 1, 12
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def bad_date(label: str, raw: str) -> str:
    return (f"Date « {label} » illisible : « {raw[:20]} ». Écrivez par exemple 15/06/2020, "
            "06/2020, 2020-06-15, 2020-06 ou 2020.")


def bad_preset(raw: str) -> str:
    return (f"Période « {raw[:20]} » inconnue : "
            f"{', '.join(PRESETS)} (24 heures, semaine, mois, année).")


def french(day: date | None) -> str:
    """13 septembre 2023; 1er for the first of the month."""
    if day is None:
        return ""
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {MONTHS[day.month - 1]} {day.year}"


def period_label(start: date | None, end: date | None) -> str:
    """« Du 1er janvier 2023 au 30 juin 2023 », « Depuis le … », « Jusqu’au … »."""
    if start and end:
        return f"Du {french(start)} au {french(end)}"
    if start:
        return f"Depuis le {french(start)}"
    return f"Jusqu’au {french(end)}" if end else ""

"""Dates with the precision the source gives (day, month or year) and the tests that time queries need."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from rdflib import Literal
from rdflib.namespace import XSD

from pactgraph.graph.errors import Kind, PactgraphError

_DAY = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(-?\d{4,})-(\d{2})$")
_YEAR = re.compile(r"^(-?\d{4,})$")


@dataclass(frozen=True)
class Period:
    """A date as given, with the first and last day it may stand for ("2024-12" spans the month)."""

    text: str
    earliest: date
    latest: date

    @property
    def datatype(self) -> str:
        return {10: str(XSD.date), 7: str(XSD.gYearMonth)}.get(len(self.text), str(XSD.gYear))

    def literal(self) -> Literal:
        return Literal(self.text, datatype={10: XSD.date, 7: XSD.gYearMonth}.get(len(self.text), XSD.gYear))


def parse_period(text: str) -> Period:
    """Read YYYY-MM-DD, YYYY-MM or YYYY; anything else (2025-13-45) is bad input."""
    value = text.strip()
    try:
        if m := _DAY.match(value):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return Period(value, day, day)
        if m := _MONTH.match(value):
            year, month = int(m[1]), int(m[2])
            last = calendar.monthrange(year, month)[1]
            return Period(value, date(year, month, 1), date(year, month, last))
        if m := _YEAR.match(value):
            year = int(m[1])
            return Period(value, date(year, 1, 1), date(year, 12, 31))
    except ValueError:
        pass
    raise PactgraphError(
        Kind.BAD_INPUT, f"not a date: {text!r} (use YYYY-MM-DD, YYYY-MM or YYYY, e.g. 2025-01-17)"
    )


def as_of_date(text: str) -> date:
    """An `as_of` parameter: a day, or a month or year read as its first day."""
    return parse_period(text).earliest


def valid_on(start: str | None, end: str | None, day: date) -> bool:
    """True when a relation holds on `day`: started on or before it and not ended before it.

    Imprecise bounds are read generously: a start of 2024-12 may be any day of December,
    an end of 2024 any day of that year.
    """
    if start and parse_period(start).earliest > day:
        return False
    return not (end and parse_period(end).latest < day)

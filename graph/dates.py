"""Dates with the precision the source gives (day, month or year), and the one rule time queries use.

The rule (README "Time"): a fact is valid on a day when it is *known* to hold that day. Its
start must be on or before the day whatever day its precision stands for (a start of 2024-12
counts from 2024-12-31, a start of 2011 from 2011-12-31), and its end on or after the day
likewise (an end of 2024 counts until 2024-01-01). A source's exclusive ends (pg:ExclusiveEnd:
the date is the first day the fact no longer held) move one day back first; a fact "ongoing as
of" a day has not ended. A claim with no date at all is known to hold from its evidence on:
from the last day its earliest source's publication date stands for, and never when no source
has a date. Every reader (paths, entities, neighbourhoods, exports) and the normalised
earliest/latest pairs the write path adds for SPARQL (graph/derive.py) use the functions here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from rdflib import Literal
from rdflib.namespace import XSD

from pactgraph.graph.errors import Kind, PactgraphError

# What pactgraph reads as a date: a year 0001-9999 (all Python's `date` holds), with or without a
# month and a day, and an optional timezone, read off (the day is the day the source wrote). XSD
# allows more (year 0000, negative and 5-digit years): the shapes refuse what this does not read,
# with this same pattern on every date property (ontology/shapes.ttl; tests/reliability/
# test_edges.py holds them equal), so data that passes the shapes is never read as "no date".
DATE_PATTERN = (
    "^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})(-[0-9]{2}(-[0-9]{2})?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
_READABLE = re.compile(DATE_PATTERN)
_ZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})$")  # a zone always has a colon: never a month or a day
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_ONE_DAY = timedelta(days=1)


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


@lru_cache(maxsize=1 << 16)
def parse_period(text: str) -> Period:
    """Read YYYY-MM-DD, YYYY-MM or YYYY (DATE_PATTERN: a timezone is read off); anything else
    (2025-13-45, 0000, 12345) is bad input. (Dates repeat across facts: each text is read once; a
    Period is immutable.)"""
    value = text.strip()
    # Unreadable text is refused below, before any int() of a 20-digit year.
    value = _ZONE.sub("", value) if _READABLE.match(value) else ""
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
        Kind.BAD_INPUT,
        f"not a date: {text!r} (use YYYY-MM-DD, YYYY-MM or YYYY, a year from 0001 to 9999, e.g. 2025-01-17)",
    )


def as_of_date(text: str) -> date:
    """An `as_of` parameter: a day, or a month or year read as its first day."""
    return parse_period(text).earliest


def end_days(end: Period, exclusive: bool = False) -> tuple[date, date]:
    """The first and last day an end date may name as the fact's last day (inclusive): an
    exclusive end (the first day the fact no longer held) moves one day back."""
    if not exclusive:
        return end.earliest, end.latest
    return end.earliest - _ONE_DAY, end.latest - _ONE_DAY


@dataclass(frozen=True, slots=True)
class Span:
    """The days a fact is known to hold, both ends included; None is an open end.

    `first` is NEVER for a claim known at no date (undated, no source with a date)."""

    first: date | None
    last: date | None
    undated: bool = False
    known_from: str | None = None  # for an undated claim: the source date it is known from, as given

    def holds_on(self, day: date) -> bool:
        return (self.first is None or self.first <= day) and (self.last is None or day <= self.last)


NEVER = date.max


def known_span(
    start: str | None,
    end: str | None,
    *,
    exclusive_end: bool = False,
    ongoing: bool = False,
    claim: bool = False,
    evidence: Iterable[str] = (),
) -> Span:
    """When a fact with these dates is known to hold (the module's rule).

    `ongoing`: the fact is "ongoing as of" a day (pg:ongoingAsOf): not ended. `claim`: the fact
    carries a claim status (an n-ary fact, event, statement…), so with no date at all it is
    undated and known from `evidence` on: the publication dates of its sources (any precision;
    the earliest wins, counted from the last day it stands for). A fact without a status and
    without dates (where an organisation is based) is a description and holds at every date.
    Raises PactgraphError when a date does not parse."""
    if start is None and end is None and not ongoing:
        if not claim:
            return Span(None, None)
        best: Period | None = None
        for text in evidence:
            try:
                period = parse_period(text)
            except PactgraphError:
                continue  # an unreadable source date is no evidence
            if best is None or period.latest < best.latest:
                best = period
        if best is None:
            return Span(NEVER, None, undated=True)
        return Span(best.latest, None, undated=True, known_from=best.text)
    bounds = start_end_days(start, None if ongoing else end, exclusive_end)
    return Span(bounds[1], bounds[2])


def start_end_days(
    start: str | None, end: str | None, exclusive_end: bool = False
) -> tuple[date | None, date | None, date | None, date | None]:
    """(start earliest, start latest, end earliest, end latest): the days each date may stand for,
    the end as the inclusive last day, each narrowed by the other (a fact does not end before it
    starts: from 2024-12-08 to 2024-12 ends on 2024-12-08 at the earliest). The write path's
    pg:startEarliest… (graph/derive.py) and every `as_of` filter use these."""
    s = parse_period(start) if start else None
    e = end_days(parse_period(end), exclusive_end) if end else None
    both = s is not None and e is not None and s.earliest <= e[1]  # contradictory dates narrow nothing
    start_earliest = s.earliest if s else None
    start_latest = min(s.latest, e[1]) if both and s and e else s.latest if s else None
    end_earliest = max(e[0], s.earliest) if both and s and e else e[0] if e else None
    end_latest = e[1] if e else None
    return start_earliest, start_latest, end_earliest, end_latest


@dataclass(frozen=True, slots=True)
class OnDay:
    """What a fact's dates say of one day, for answers that list what held then (who led a state,
    the state system, memberships). `known` is the module's rule, what every `as_of` filter keeps;
    `possible`: some day each date may stand for puts the day inside the fact (a REIGN end of
    1953-01 asked about 1953-01-20); `beyond`: the fact's "ongoing as of" day, when the day asked
    about is later. Such a fact has not ended (it is known, and listed), but its source knows
    nothing after that day, so it is never `certain` then, and answers say so (`caveat`)."""

    known: bool
    possible: bool
    beyond: str | None = None

    @property
    def certain(self) -> bool:
        return self.known and self.beyond is None

    @property
    def caveat(self) -> str | None:
        """Why a listed fact is not certain on the day, in words; None when it is (or is not listed)."""
        if not self.possible:
            return None
        if self.beyond is not None:
            return f"ongoing as of {self.beyond}, not known after"
        if not self.known:
            return "its dates do not settle this day"
        return None


def on_day(
    start: str | None,
    end: str | None,
    day: date,
    *,
    exclusive_end: bool = False,
    ongoing_as_of: str | None = None,
    known_from: str | None = None,
) -> OnDay:
    """How a fact with these dates stands on `day` (see `OnDay`). A fact with neither start nor end
    is known from `known_from` on (its evidence's date, as for an undated claim: a list of the
    states of today read on 2026-11-28), and neither known nor possible before it."""
    ongoing = ongoing_as_of is not None and end is None
    if start is None and end is None:
        span = known_span(None, None, ongoing=False, claim=True, evidence=(known_from,) if known_from else ())
        known = possible = span.holds_on(day)
    else:
        known = known_span(start, end, exclusive_end=exclusive_end, ongoing=ongoing).holds_on(day)
        first, _, _, last = start_end_days(start, None if ongoing else end, exclusive_end)
        possible = (first is None or first <= day) and (last is None or day <= last)
    beyond = ongoing_as_of if ongoing and ongoing_as_of and parse_period(ongoing_as_of).latest < day else None
    return OnDay(known, possible, beyond)


def valid_on(
    start: str | None,
    end: str | None,
    day: date,
    *,
    exclusive_end: bool = False,
    ongoing: bool = False,
    claim: bool = False,
    evidence: Iterable[str] = (),
) -> bool:
    """True when a fact with these dates is known to hold on `day` (see `known_span`)."""
    span = known_span(
        start, end, exclusive_end=exclusive_end, ongoing=ongoing, claim=claim, evidence=evidence
    )
    return span.holds_on(day)

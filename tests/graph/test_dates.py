"""The one rule of time (graph/dates.py): a fact is valid on a day when it is known to hold then,
whatever day its imprecise dates stand for; undated claims hold from their evidence on."""

from __future__ import annotations

from datetime import date

import pytest

from pactgraph.graph import Kind, PactgraphError
from pactgraph.graph.dates import NEVER, as_of_date, known_span, parse_period, start_end_days, valid_on

D = date.fromisoformat


@pytest.mark.parametrize(
    ("start", "end", "day", "valid"),
    [
        # a start of 2024-12 may be any day of December: known from its last day
        ("2024-12", None, "2024-12-01", False),
        ("2024-12", None, "2024-12-30", False),
        ("2024-12", None, "2024-12-31", True),
        ("2011", None, "2011-06-01", False),
        ("2011", None, "2012-01-01", True),
        # an end of 2024 may be any day of 2024: known until its first day
        ("2000", "2024", "2024-01-01", True),
        ("2000", "2024", "2024-01-02", False),
        ("2000-07-17", "2024-12-08", "2024-12-08", True),  # ends are inclusive
        ("2000-07-17", "2024-12-08", "2024-12-09", False),
        ("2000-07-17", "2024-12-08", "2000-07-16", False),
        # a start and an end in the same month narrow each other: the fact ends on or after its start
        ("2024-12-08", "2024-12", "2024-12-08", True),
        ("2024-12", "2024-12-08", "2024-12-08", True),
        ("2024-12", "2024-12-08", "2024-12-07", False),
        # only an end: held since before any date we know of
        (None, "1999-02", "1900-01-01", True),
        (None, "1999-02", "1999-02-02", False),
    ],
)
def test_valid_on_keeps_the_precision_of_each_date(
    start: str | None, end: str | None, day: str, valid: bool
) -> None:
    assert valid_on(start, end, D(day)) is valid


def test_exclusive_ends_name_the_first_day_it_no_longer_held() -> None:
    assert valid_on("2020-01-01", "2020-05-01", D("2020-05-01")) is True
    assert valid_on("2020-01-01", "2020-05-01", D("2020-05-01"), exclusive_end=True) is False
    assert valid_on("2020-01-01", "2020-05-01", D("2020-04-30"), exclusive_end=True) is True
    # a month-precision exclusive end: the last day may be as early as the last day before it
    assert start_end_days("1990", "1995-03", exclusive_end=True) == (
        D("1990-01-01"),
        D("1990-12-31"),
        D("1995-02-28"),
        D("1995-03-30"),
    )


def test_ongoing_as_of_is_not_ended() -> None:
    span = known_span("2011-03-15", None, ongoing=True)
    assert span.holds_on(D("2011-03-15")) and span.holds_on(D("2090-01-01"))
    assert not span.holds_on(D("2011-03-14"))


def test_an_undated_claim_is_known_from_its_earliest_source_on() -> None:
    # a source of January 2025 may have been published any day that month: from its last day
    span = known_span(None, None, claim=True, evidence=["2025-01", "2025-06-30"])
    assert (span.undated, span.known_from, span.first, span.last) == (True, "2025-01", D("2025-01-31"), None)
    assert not valid_on(None, None, D("1990-01-01"), claim=True, evidence=["2025-01"])
    assert not valid_on(None, None, D("2025-01-30"), claim=True, evidence=["2025-01"])
    assert valid_on(None, None, D("2025-01-31"), claim=True, evidence=["2025-01"])
    # without a dated source it is known at no date; without a claim status it is a description
    assert known_span(None, None, claim=True).first == NEVER
    assert not valid_on(None, None, D("2090-01-01"), claim=True, evidence=["not a date"])
    assert valid_on(None, None, D("1066-10-14"))


def test_as_of_and_bad_dates() -> None:
    assert as_of_date("2024-12") == D("2024-12-01")
    assert parse_period("2024-02").latest == D("2024-02-29")
    for bad in ("2025-13-45", "soon", "2024-1"):
        with pytest.raises(PactgraphError) as info:
            parse_period(bad)
        assert info.value.kind == Kind.BAD_INPUT

"""Alliances, agreements and sanctions, one GET each: members on a day, allied on a day, an
agreement's parties, agreements between two states or of one on a day, sanctions against a
target, and where the sources disagree. Thin: names are resolved here, the questions answered in
graph/alliances.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from pactgraph.api.state import state
from pactgraph.graph.alliances import (
    agreement_parties,
    agreements_between,
    agreements_of,
    allied_on,
    members_on,
    readings,
    sanctions_against,
)
from pactgraph.graph.dates import as_of_date

router = APIRouter(tags=["alliances, agreements and sanctions"])

Source = Annotated[
    list[str] | None,
    Query(description="only these sources: a dataset (atop), a release (atop-4.01), a source, a graph"),
]
Day = Annotated[str, Query(description="YYYY-MM-DD (a month or year means its first day)")]
Name = Annotated[str, Query(description="a name, code, id or IRI")]


@router.get("/alliances/members", summary="Members of an alliance or organisation on a date, per source")
async def members(request: Request, alliance: Name, date: Day, source: Source = None) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(date)

    def answer() -> dict[str, Any]:
        return members_on(st.store, st.names().resolve(alliance).iri, day, source or ())

    return await st.run(answer)


@router.get("/alliances/allied", summary="Were two states allied on a date (defence in either direction)")
async def allied(request: Request, x: Name, y: Name, date: Day, source: Source = None) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(date)

    def answer() -> dict[str, Any]:
        names = st.names()
        return allied_on(st.store, names.resolve(x).iri, names.resolve(y).iri, day, source or ())

    return await st.run(answer)


@router.get("/agreements/parties", summary="The parties of an agreement and their dates, per source")
async def parties(request: Request, agreement: Name, source: Source = None) -> dict[str, Any]:
    st = state(request)
    return await st.run(lambda: agreement_parties(st.store, st.names().resolve(agreement).iri, source or ()))


@router.get("/agreements/between", summary="The agreements two states are parties to")
async def between(request: Request, x: Name, y: Name, source: Source = None) -> dict[str, Any]:
    st = state(request)

    def answer() -> dict[str, Any]:
        names = st.names()
        return agreements_between(st.store, names.resolve(x).iri, names.resolve(y).iri, source or ())

    return await st.run(answer)


@router.get("/agreements/of", summary="The agreements a state was party to on a date, per source")
async def of(request: Request, party: Name, date: Day, source: Source = None) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(date)
    return await st.run(lambda: agreements_of(st.store, st.names().resolve(party).iri, day, source or ()))


@router.get(
    "/sanctions",
    summary="Sanctions against a target: begun in a year, in force on a date, by sender, by type",
)
async def sanctions(
    request: Request,
    target: Name,
    year: Annotated[int | None, Query(description="begun in this year", ge=1, le=9999)] = None,
    date: Annotated[str | None, Query(description="in force on this day (YYYY-MM-DD)")] = None,
    sender: Annotated[str | None, Query(description="imposed by this state or organisation")] = None,
    measure: Annotated[
        str | None, Query(description="trade, arms, military, financial, travel or other")
    ] = None,
    source: Source = None,
) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(date) if date else None

    def answer() -> dict[str, Any]:
        names = st.names()
        return sanctions_against(
            st.store,
            names.resolve(target).iri,
            year=year,
            day=day,
            sender=names.resolve(sender).iri if sender else None,
            measure=measure,
            sources=source or (),
        )

    return await st.run(answer)


@router.get("/readings", summary="Where sources disagree: each source's dates for a membership")
async def disagreements(
    request: Request,
    alliance: Name,
    member: Annotated[
        str | None, Query(description="one member (default: every member sources disagree on)")
    ] = None,
    source: Source = None,
) -> dict[str, Any]:
    st = state(request)

    def answer() -> dict[str, Any]:
        names = st.names()
        who = names.resolve(member).iri if member else None
        return readings(st.store, names.resolve(alliance).iri, who, source or ())

    return await st.run(answer)

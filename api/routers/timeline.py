"""Time questions, one GET each: leaders on a day, the state system on a day, UN membership, a
person's spells. Thin: names are resolved here, the questions answered in graph/timeline.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from pactgraph.api.state import state
from pactgraph.graph.dates import as_of_date
from pactgraph.graph.timeline import leaders_on, min_status, person_spells, states_on, un_membership

router = APIRouter(tags=["time"])

Source = Annotated[
    list[str] | None,
    Query(
        description="only these sources: a dataset (archigos), a release (archigos-4.1), a source, a graph"
    ),
]
Day = Annotated[str, Query(description="YYYY-MM-DD (a month or year means its first day)")]
Status = Annotated[
    str | None,
    Query(description="minimum claim status, as for /paths: confirmed, reported, disputed, denied (all)"),
]


@router.get("/leaders", summary="Who led a state on a date: by role, per source")
async def leaders(
    request: Request,
    state_name: Annotated[str, Query(alias="state", description="a state: name, ISO code, id or IRI")],
    date: Day,
    role: Annotated[
        str | None, Query(description="effective-leader, head-of-state or head-of-government (default: all)")
    ] = None,
    source: Source = None,
    status: Status = None,
) -> dict[str, Any]:
    """One row per tenure with all its sources; rows of the same relation by other sources share
    `relation`. A row the day is not certain for (after its "ongoing as of" day, or dates too
    coarse) says why in `caveat`, and the answer's `caveats` say it too."""
    st = state(request)
    day = as_of_date(date)
    min_status(status)

    def answer() -> dict[str, Any]:
        found = st.names().resolve(state_name)
        return leaders_on(st.store, found.iri, day, role, source or (), status)

    return await st.run(answer)


@router.get("/states", summary="Which states were in the state system on a date, per source")
async def states(request: Request, date: Day, source: Source = None, status: Status = None) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(date)
    min_status(status)
    return await st.run(lambda: states_on(st.store, day, source or (), status))


@router.get("/un-membership", summary="Was a state a UN member on a date; which states were admitted then")
async def un(
    request: Request,
    date: Day,
    state_name: Annotated[str | None, Query(alias="state", description="a state (optional)")] = None,
    source: Source = None,
    status: Status = None,
) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(date)
    min_status(status)

    def answer() -> dict[str, Any]:
        iri = st.names().resolve(state_name).iri if state_name else None
        return un_membership(st.store, iri, day, source or (), status=status)

    return await st.run(answer)


@router.get(
    "/spells/{name:path}", summary="A person's spells, with predecessor and successor in the same role"
)
async def spells(request: Request, name: str, source: Source = None, status: Status = None) -> dict[str, Any]:
    st = state(request)
    min_status(status)

    def answer() -> dict[str, Any]:
        found = st.names().resolve(name)
        return person_spells(st.store, found.iri, source or (), status)

    return await st.run(answer)

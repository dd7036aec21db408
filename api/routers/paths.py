"""Explained path queries: how do these actors connect to that one?"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from pactgraph.api.state import state
from pactgraph.graph.dates import as_of_date
from pactgraph.graph.paths import MAX_HOPS, MAX_LIMIT, PathQuery, find_paths

router = APIRouter(tags=["paths"])


@router.get("/paths", summary="Ranked, explained paths from each source to the target")
async def paths(
    request: Request,
    from_: Annotated[list[str], Query(alias="from", description="one or more sources (names, codes, ids)")],
    to: Annotated[str, Query(description="the target")],
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 4,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="paths per source")] = 5,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD: only relations valid on that date")] = None,
    status: Annotated[
        str, Query(description="minimum claim status: confirmed, reported, disputed, denied")
    ] = "denied",
    via: Annotated[
        list[str] | None, Query(description="allowed predicates (supporter) or classes (Sanction)")
    ] = None,
    exclude: Annotated[list[str] | None, Query(description="barred predicates or classes")] = None,
) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(as_of) if as_of else None

    def run() -> dict[str, Any]:
        names = st.names()
        sources = tuple(dict.fromkeys(names.resolve(n).iri for n in from_))
        query = PathQuery(
            sources,
            names.resolve(to).iri,
            max_hops,
            limit,
            day,
            status.lower(),
            tuple(via or ()),
            tuple(exclude or ()),
        )
        return find_paths(st.projection(), query, st.settings.path_budget)

    return await st.run(run, lane="search")

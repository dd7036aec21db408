"""Entity lookups, search and neighbourhoods."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from pactgraph.api.negotiation import choose, documented_200
from pactgraph.api.state import state
from pactgraph.graph import answer
from pactgraph.graph.dates import as_of_date
from pactgraph.graph.entities import describe_consistent, describe_rdf
from pactgraph.graph.export import Scope, cytoscape_elements, cytoscape_header, select

router = APIRouter(tags=["entities"])


@router.get(
    "/entities/{name:path}",
    summary="One entity: names, classes, identifiers, dated facts, neighbours",
    responses=documented_200("application/json"),
)
async def entity(
    request: Request,
    name: str,
    format: str | None = None,
    as_of: Annotated[
        str | None, Query(description="YYYY-MM-DD: the facts that held then; a state's leaders and statehood")
    ] = None,
) -> Any:
    """`name` is a label, an alias, an ISO code, a Wikidata id, a local id (state/IRN) or an IRI.
    JSON by default; Turtle, JSON-LD and the other RDF formats by Accept or format=."""
    st = state(request)
    found = await st.run(lambda: st.names().resolve(name))
    accept = request.headers.get("accept", "")
    wants_rdf = (format and format != "json") or any(
        m in accept
        for m in ("text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples")
    )
    if wants_rdf:
        fmt = choose("graph", accept, format)
        result = await st.run(lambda: answer(st.store, describe_rdf(st.store, found.iri), fmt))
        return Response(result.body, media_type=result.media_type)
    day = as_of_date(as_of) if as_of else None
    return await st.run(lambda: describe_consistent(st.store, st.projection, found.iri, day))


@router.get("/search", summary="Entities by name, alias, prefix and fuzzy match, ranked")
async def search(
    request: Request,
    q: Annotated[str, Query(description="what to look for", max_length=300)],
    type: Annotated[str | None, Query(description="a class, e.g. State, Person, Organisation")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    st = state(request)
    page = await st.run(lambda: st.names().search(q, type, limit, offset))
    return {
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "hits": [
            {**h.entity.as_dict(), "score": round(h.score, 2), "matched": h.matched, "how": h.how}
            for h in page.hits
        ],
    }


@router.get("/neighbourhood/{name:path}", summary="The subgraph around an entity, as Cytoscape.js elements")
async def neighbourhood(
    request: Request,
    name: str,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD: only relations valid then")] = None,
    status: Annotated[str, Query(description="minimum claim status")] = "denied",
) -> dict[str, Any]:
    st = state(request)
    day = as_of_date(as_of) if as_of else None

    def build() -> dict[str, Any]:
        found = st.names().resolve(name)
        sub = select(st.store, st.projection(), Scope(found.iri, depth, None, day, status.lower()))
        return {"data": cytoscape_header(sub), "elements": cytoscape_elements(sub)}

    return await st.run(build, lane="search")

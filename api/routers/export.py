"""Downloads of the graph or a part of it: GraphML, GEXF, Cytoscape desktop's .cyjs, and RDF."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from pactgraph.api.state import state
from pactgraph.graph.dates import as_of_date
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.export import (
    FORMATS,
    MAX_DEPTH,
    RDF_EXPORTS,
    Scope,
    Subgraph,
    export_format,
    filename,
    select,
    total,
)
from pactgraph.graph.export import export as export_chunks
from pactgraph.graph.paths import MAX_HOPS, MAX_LIMIT, PathQuery

router = APIRouter(tags=["export"])

GATHER = 1 << 18  # bytes sent per worker-thread hop


async def _gathered(chunks: Iterator[bytes], size: int = GATHER) -> AsyncIterator[bytes]:
    """The writer's chunks, run in a worker thread (never on the event loop) and sent about
    `size` bytes at a time: a thread hop and an ASGI send per 64 KiB chunk cost as much as
    rendering it, so a million-triple export makes a few hundred rather than thousands. The
    first chunk (the header) goes alone, so the download starts before node details are read."""

    def gather(limit: int) -> bytes:
        out: list[bytes] = []
        n = 0
        for chunk in chunks:
            out.append(chunk)
            n += len(chunk)
            if n >= limit:
                break
        return b"".join(out)

    limit = 1
    while piece := await anyio.to_thread.run_sync(gather, limit):
        yield piece
        limit = size


@router.get(
    "/export",
    summary="The whole graph, the neighbourhood of an entity or a path query's answer, as a download",
    response_class=StreamingResponse,
    responses={200: {"content": {f.media_type.split(";")[0]: {} for f in FORMATS.values()}}},
)
async def export(
    request: Request,
    format: Annotated[
        str,
        Query(
            description=f"one of {', '.join(FORMATS)}; cyjs is Cytoscape desktop's .cyjs file "
            "(GET /neighbourhood answers the other shape, Cytoscape.js elements)"
        ),
    ] = "graphml",
    around: Annotated[str | None, Query(description="an entity: its neighbourhood only")] = None,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH, description="hops from `around`")] = 1,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD: only relations valid then")] = None,
    status: Annotated[
        str, Query(description="minimum claim status: confirmed, reported, disputed, denied")
    ] = "denied",
    from_: Annotated[
        list[str] | None, Query(alias="from", description="path query sources (with `to`)")
    ] = None,
    to: Annotated[str | None, Query(description="path query target (with `from`)")] = None,
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 4,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="paths per source")] = 5,
    via: Annotated[list[str] | None, Query(description="allowed predicates or classes (paths)")] = None,
    exclude: Annotated[list[str] | None, Query(description="barred predicates or classes (paths)")] = None,
    include_literals: Annotated[
        bool, Query(description="RDF formats: every literal and evidence link of the nodes too")
    ] = False,
) -> StreamingResponse:
    """Streams the export as it is written, so the whole graph downloads in bounded memory.
    With `from` and `to` the scope is the answer of that path query (the parameters of /paths)."""
    fmt = export_format(format)
    if bool(from_) != (to is not None):
        raise PactgraphError(Kind.BAD_INPUT, "a path export needs both from= and to=")
    if (via or exclude) and not from_:
        raise PactgraphError(Kind.BAD_INPUT, "via= and exclude= filter a path export: give from= and to= too")
    day = as_of_date(as_of) if as_of else None
    st = state(request)

    def choose() -> Subgraph:
        names = st.names()
        query = None
        if from_ and to is not None:
            query = PathQuery(
                tuple(dict.fromkeys(names.resolve(n).iri for n in from_)),
                names.resolve(to).iri,
                max_hops,
                limit,
                day,
                status.lower(),
                tuple(via or ()),
                tuple(exclude or ()),
            )
        root = names.resolve(around).iri if around is not None else None
        scope = Scope(root, depth, query, day, status.lower())
        return select(st.store, st.projection(), scope, st.settings.path_budget)

    sub = await st.run(choose, lane="search")
    elements = await st.run(lambda: total(sub, fmt.name), lane="search")
    # What `pactgraph export` reports when it asks a running server (api/readers.py).
    counts = {"X-Pactgraph-Nodes": str(len(sub.nodes))}
    if fmt.name not in RDF_EXPORTS:
        counts["X-Pactgraph-Edges"] = str(elements - len(sub.nodes))
    return StreamingResponse(
        _gathered(export_chunks(st.store, sub, fmt.name, include_literals)),
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename(sub, fmt.name)}"', **counts},
    )

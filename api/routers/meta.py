"""Counts, health, readiness and the ontology."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from pactgraph.api.negotiation import choose, documented_200
from pactgraph.api.state import state
from pactgraph.graph import stats
from pactgraph.graph.formats import rdf_format
from pactgraph.graph.sparql import GRAPH_FORMATS
from pactgraph.ontology import ONTOLOGY_PATH

router = APIRouter(tags=["meta"])


@router.get("/stats", summary="Triples per named graph, instances per class")
async def get_stats(request: Request) -> dict[str, object]:
    st = state(request)
    s = await st.run(lambda: stats(st.store))
    return {"triples": s.triples, "graphs": s.graphs, "classes": s.classes}


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: store open, data loaded, and room for more work")
async def readyz(request: Request) -> Response:
    """503 while starting, and while the server cannot take more work (`busy`: the threads of its
    own work and their queue are full, the reason says which; `no space`: the last write found
    the disk full, and it still is); 200 otherwise."""
    st = state(request)
    if not st.ready:
        return JSONResponse({"status": "starting"}, status_code=503)
    busy = st.busy()
    if busy is not None:
        return JSONResponse({"status": "busy", "reason": busy}, status_code=503)
    if st.store.no_space is not None:  # the last write found the disk full: does it take writes now?
        full = await asyncio.to_thread(st.store.check_space)
        if full is not None:
            return JSONResponse({"status": "no space", "reason": full}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get(
    "/ontology",
    summary="The ontology, in the negotiated RDF format",
    responses=documented_200(),
)
async def ontology(request: Request, format: str | None = None) -> Response:
    name = choose("graph", request.headers.get("accept"), format)
    if name == "turtle":
        return Response(ONTOLOGY_PATH.read_bytes(), media_type="text/turtle")
    from rdflib import Graph

    body = Graph().parse(ONTOLOGY_PATH).serialize(format=rdf_format(name).rdflib, encoding="utf-8")
    return Response(body, media_type=GRAPH_FORMATS[name][1])

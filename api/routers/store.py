"""The SPARQL 1.1 Graph Store Protocol on /store (`?graph=IRI` or `?default`), and POST /ingest.

Every write is checked against the SHACL shapes on what the store would hold after it and
refused whole (422, nothing written) when it breaks them (graph/writes.py); `validate=false`
skips the check and records that in the graph. `?default` is the store's own default graph,
which queries see as part of theirs (the merge of every graph)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from rdflib import Graph, URIRef

from pactgraph.api.negotiation import documented_200
from pactgraph.api.state import read_body, require_token, state
from pactgraph.graph import Kind, PactgraphError, SourceInput, graph_for, ingest, writes
from pactgraph.graph.formats import CSV, rdf_format
from pactgraph.graph.sparql import GRAPH_FORMATS
from pactgraph.graph.store import DEFAULT_GRAPH

router = APIRouter(tags=["store"])

GraphParam = Annotated[str | None, Query(description="the graph's IRI")]
DefaultParam = Annotated[str | None, Query(description="present: the store's own default graph")]
ValidateParam = Annotated[
    bool, Query(description="false: skip the SHACL check (recorded in the graph written)")
]


def _target(graph: str | None, default: str | None) -> URIRef:
    if graph and default is None:
        if not graph.startswith(("http://", "https://", "urn:")):
            raise PactgraphError(Kind.BAD_INPUT, f"graph must be an absolute IRI, not {graph!r}")
        return URIRef(graph)
    if default is not None and not graph:
        return DEFAULT_GRAPH
    raise PactgraphError(Kind.BAD_INPUT, "give exactly one of ?graph=IRI or ?default")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "text/turtle").split(";")[0].strip() or "text/turtle"


_GRAPH = documented_200()


@router.get("/store", summary="Graph Store Protocol: read a graph", responses=_GRAPH)
@router.head("/store", summary="Graph Store Protocol: read a graph", responses=_GRAPH)
async def get_graph(request: Request, graph: GraphParam = None, default: DefaultParam = None) -> Response:
    name = _target(graph, default)
    st = state(request)
    accept = request.headers.get("accept", "text/turtle")
    fmt = "turtle"
    for media, (_f, m) in ((k, v) for k, v in GRAPH_FORMATS.items()):
        if m in accept:
            fmt = media
            break

    def read() -> bytes:
        if name != DEFAULT_GRAPH and name not in st.store.graph_names():
            raise PactgraphError(Kind.NOT_FOUND, f"no graph {name}")
        g = Graph()
        for t in st.store.graph(name):
            g.add(t)
        return g.serialize(format=rdf_format(fmt).rdflib, encoding="utf-8")

    body = await st.run(read)
    media = GRAPH_FORMATS[fmt][1]
    if request.method == "HEAD":
        return Response(status_code=200, media_type=media, headers={"Content-Length": str(len(body))})
    return Response(body, media_type=media)


_WRITE = {"dependencies": [Depends(require_token)], "status_code": 204, "response_class": Response}


@router.put(
    "/store",
    summary="Graph Store Protocol: replace a graph",
    responses={201: {"description": "the graph was created"}},
    **_WRITE,  # type: ignore[arg-type]
)
async def put_graph(
    request: Request, graph: GraphParam = None, default: DefaultParam = None, validate: ValidateParam = True
) -> Response:
    name = _target(graph, default)
    body = await read_body(request)
    st = state(request)
    created = await st.run(
        lambda: writes.put_graph(st.store, name, body, _media_type(request), validate=validate),
        timeout=max(st.settings.query_timeout, 300),
    )
    return Response(status_code=201 if created and name != DEFAULT_GRAPH else 204)


@router.post("/store", summary="Graph Store Protocol: add to a graph", **_WRITE)  # type: ignore[arg-type]
async def post_graph(
    request: Request, graph: GraphParam = None, default: DefaultParam = None, validate: ValidateParam = True
) -> Response:
    name = _target(graph, default)
    body = await read_body(request)
    st = state(request)
    await st.run(
        lambda: writes.post_graph(st.store, name, body, _media_type(request), validate=validate),
        timeout=max(st.settings.query_timeout, 300),
    )
    return Response(status_code=204)


@router.delete("/store", summary="Graph Store Protocol: drop a graph", **_WRITE)  # type: ignore[arg-type]
async def delete_graph(
    request: Request, graph: GraphParam = None, default: DefaultParam = None, validate: ValidateParam = True
) -> Response:
    name = _target(graph, default)
    st = state(request)
    await st.run(lambda: writes.delete_graph(st.store, name, validate=validate))
    return Response(status_code=204)


@router.post(
    "/ingest",
    summary="Ingest a file: validated with SHACL, written atomically",
    dependencies=[Depends(require_token)],
)
async def ingest_file(
    request: Request,
    name: Annotated[
        str, Query(description="file name; its stem names the graph, its extension the format")
    ] = "upload",
    format: Annotated[
        str | None, Query(description="turtle, ntriples, nquads, trig, jsonld, rdfxml or csv")
    ] = None,
    validate: ValidateParam = True,
) -> dict[str, object]:
    """Upload RDF (any format rdflib reads) or CSV as the request body."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if format:
        fmt = CSV if format.lower() == CSV else rdf_format(format).name
    elif ctype == "text/csv":
        fmt = CSV
    elif ctype:
        fmt = rdf_format(ctype).name
    else:
        raise PactgraphError(Kind.BAD_INPUT, "say the format: a Content-Type or ?format=")
    body = await read_body(request)
    st = state(request)
    source = SourceInput(name, body, fmt, graph_for(name))
    result = await st.run(
        lambda: ingest(st.store, [source], validate_shapes=validate),
        timeout=max(st.settings.query_timeout, 300),
    )
    return {"graphs": result.graphs, "triples": result.triples}

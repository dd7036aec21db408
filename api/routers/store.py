"""The SPARQL 1.1 Graph Store Protocol on /store (`?graph=IRI` or `?default`), and POST /ingest.

Every write is checked against the SHACL shapes on what the store would hold after it and
refused whole (422, nothing written) when it breaks them (graph/writes.py); `validate=false`
skips the check and records that in the graph. `?default` is the store's own default graph,
which queries see as part of theirs (the merge of every graph). A Graph Store write carries one
graph: a quad format (TriG, N-Quads) is refused with 415 and sent to POST /ingest, never read in
part; a graph IRI the engine would refuse is 400. Reads are serialised by the engine (flat blank
nodes: no depth of nesting makes them fail)."""

from __future__ import annotations

from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from rdflib import URIRef

from pactgraph.api.negotiation import documented_200
from pactgraph.api.state import read_body, require_token, state
from pactgraph.graph import Kind, PactgraphError, SourceInput, deadline, graph_for, ingest, writes
from pactgraph.graph.formats import CSV, RdfFormat, rdf_format
from pactgraph.graph.sparql import GRAPH_FORMATS
from pactgraph.graph.store import DEFAULT_GRAPH, reserved_graph, visible_graph
from pactgraph.ontology import PG

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
        try:
            ox.NamedNode(graph)  # the engine's own IRI rules: no space, <>"{}|^` or bad escapes
        except ValueError as exc:
            raise PactgraphError(Kind.BAD_INPUT, f"graph is not a valid IRI: {graph!r} ({exc})") from exc
        if not visible_graph(graph):  # pactgraph's own graphs; the default graph is ?default
            why = reserved_graph(graph)
            raise PactgraphError(Kind.BAD_INPUT, f"the graph <{graph}> {why}; the default graph is ?default")
        return URIRef(graph)
    if default is not None and not graph:
        return DEFAULT_GRAPH
    raise PactgraphError(Kind.BAD_INPUT, "give exactly one of ?graph=IRI or ?default")


def _media_type(request: Request) -> str:
    """The body's RDF format. A Graph Store request writes ONE graph: a quad format (TriG,
    N-Quads) names graphs of its own, so it is refused whole (415) rather than read in part."""
    media = request.headers.get("content-type", "text/turtle").split(";")[0].strip() or "text/turtle"
    fmt: RdfFormat = rdf_format(media)
    if fmt.name in _QUAD_ONLY:
        raise HTTPException(
            415,
            f"{fmt.media_type} is a quad format: a Graph Store request (/store) writes one graph from "
            "a graph format (Turtle, N-Triples, JSON-LD, RDF/XML); send quads to POST /ingest, "
            "which keeps the graphs they name. Nothing was written.",
        )
    return media


_QUAD_ONLY = frozenset({"trig", "nquads"})
_REFUSED_QUADS: dict[int | str, dict[str, Any]] = {
    415: {"description": "a quad format (TriG, N-Quads): send it to POST /ingest"}
}


_GRAPH = documented_200()
_PREFIXES = {
    "pg": str(PG),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}


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
        # The engine's serialisers write blank nodes flat (labels), however deep the data nests
        # them: rdflib's Turtle writer recursed into each and failed on a few thousand levels.
        # Pulled through a deadline check: a large graph's serialisation stops at the time limit.
        triples = deadline.checked(q.triple for q in st.store.match(graph=ox.NamedNode(str(name))))
        out = ox.serialize(triples, format=GRAPH_FORMATS[fmt][0], prefixes=_PREFIXES)
        assert out is not None
        return out

    body = await st.run(read, lane="search")  # a whole graph: with the other long reads
    media = GRAPH_FORMATS[fmt][1]
    if request.method == "HEAD":
        return Response(status_code=200, media_type=media, headers={"Content-Length": str(len(body))})
    return Response(body, media_type=media)


_WRITE = {"dependencies": [Depends(require_token)], "status_code": 204, "response_class": Response}


@router.put(
    "/store",
    summary="Graph Store Protocol: replace a graph",
    responses={201: {"description": "the graph was created"}, **_REFUSED_QUADS},
    **_WRITE,  # type: ignore[arg-type]
)
async def put_graph(
    request: Request, graph: GraphParam = None, default: DefaultParam = None, validate: ValidateParam = True
) -> Response:
    name = _target(graph, default)
    media = _media_type(request)  # before the body: a refused format is not read
    body = await read_body(request)
    st = state(request)
    created = await st.run(
        lambda: writes.put_graph(st.store, name, body, media, validate=validate),
        timeout=max(st.settings.query_timeout, 300),
    )
    return Response(status_code=201 if created and name != DEFAULT_GRAPH else 204)


@router.post(
    "/store",
    summary="Graph Store Protocol: add to a graph",
    responses=_REFUSED_QUADS,
    **_WRITE,  # type: ignore[arg-type]
)
async def post_graph(
    request: Request, graph: GraphParam = None, default: DefaultParam = None, validate: ValidateParam = True
) -> Response:
    name = _target(graph, default)
    media = _media_type(request)  # before the body: a refused format is not read
    body = await read_body(request)
    st = state(request)
    await st.run(
        lambda: writes.post_graph(st.store, name, body, media, validate=validate),
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
    replace: Annotated[
        bool,
        Query(description="true: replace a graph that another source (file, dataset, bundled data) holds"),
    ] = False,
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
        lambda: ingest(st.store, [source], validate_shapes=validate, replace=replace),
        timeout=max(st.settings.query_timeout, 300),
    )
    return {"graphs": result.graphs, "triples": result.triples}

"""The SPARQL 1.1 Graph Store Protocol on /store, and POST /ingest (validated, atomic)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from rdflib import Graph, URIRef

from pactgraph.api.negotiation import documented_200
from pactgraph.api.state import read_body, require_token, state
from pactgraph.graph import Kind, PactgraphError, SourceInput, graph_for, ingest
from pactgraph.graph.formats import CSV, rdf_format
from pactgraph.graph.ingest import parse
from pactgraph.graph.sparql import GRAPH_FORMATS

router = APIRouter(tags=["store"])


def _target(graph: str | None, default: str | None) -> URIRef:
    if graph and default is None:
        if not graph.startswith(("http://", "https://", "urn:")):
            raise PactgraphError(Kind.BAD_INPUT, f"graph must be an absolute IRI, not {graph!r}")
        return URIRef(graph)
    if default is not None and not graph:
        raise PactgraphError(
            Kind.BAD_INPUT,
            "the default graph of pactgraph is the union of all graphs; name a graph with ?graph=",
        )
    raise PactgraphError(Kind.BAD_INPUT, "give exactly one of ?graph=IRI or ?default")


async def _parse_body(request: Request, name: URIRef) -> Graph:
    ctype = request.headers.get("content-type", "text/turtle").split(";")[0].strip()
    fmt = rdf_format(ctype).name
    body = await read_body(request)
    graphs = parse(SourceInput(str(name), body, fmt, name))
    return graphs[name]


_GRAPH = documented_200()


@router.get("/store", summary="Graph Store Protocol: read a graph", responses=_GRAPH)
@router.head("/store", summary="Graph Store Protocol: read a graph", responses=_GRAPH)
async def get_graph(
    request: Request,
    graph: Annotated[str | None, Query()] = None,
    default: Annotated[str | None, Query()] = None,
) -> Response:
    name = _target(graph, default)
    st = state(request)
    accept = request.headers.get("accept", "text/turtle")
    fmt = "turtle"
    for media, (_f, m) in ((k, v) for k, v in GRAPH_FORMATS.items()):
        if m in accept:
            fmt = media
            break

    def read() -> bytes:
        if name not in st.store.graph_names():
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


@router.put(
    "/store",
    summary="Graph Store Protocol: replace a graph",
    dependencies=[Depends(require_token)],
    status_code=204,
    response_class=Response,
    responses={201: {"description": "the graph was created"}},
)
async def put_graph(
    request: Request,
    graph: Annotated[str | None, Query()] = None,
    default: Annotated[str | None, Query()] = None,
) -> Response:
    name = _target(graph, default)
    new = await _parse_body(request, name)
    st = state(request)
    existed = await st.run(lambda: name in st.store.graph_names())
    await st.run(lambda: st.store.replace_graphs({name: iter(new)}))
    return Response(status_code=204 if existed else 201)


@router.post(
    "/store",
    summary="Graph Store Protocol: add to a graph",
    dependencies=[Depends(require_token)],
    status_code=204,
    response_class=Response,
)
async def post_graph(
    request: Request,
    graph: Annotated[str | None, Query()] = None,
    default: Annotated[str | None, Query()] = None,
) -> Response:
    name = _target(graph, default)
    new = await _parse_body(request, name)
    st = state(request)

    def merge() -> None:
        merged = Graph()
        for t in st.store.graph(name):
            merged.add(t)
        merged += new
        st.store.replace_graphs({name: iter(merged)})

    await st.run(merge)
    return Response(status_code=204)


@router.delete(
    "/store",
    summary="Graph Store Protocol: drop a graph",
    dependencies=[Depends(require_token)],
    status_code=204,
    response_class=Response,
)
async def delete_graph(
    request: Request,
    graph: Annotated[str | None, Query()] = None,
    default: Annotated[str | None, Query()] = None,
) -> Response:
    name = _target(graph, default)
    st = state(request)

    def drop() -> None:
        if name not in st.store.graph_names():
            raise PactgraphError(Kind.NOT_FOUND, f"no graph {name}")
        st.store.drop_graph(name)

    await st.run(drop)
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
    result = await st.run(lambda: ingest(st.store, [source]), timeout=max(st.settings.query_timeout, 300))
    return {"graphs": result.graphs, "triples": result.triples}

"""Content negotiation for SPARQL answers: Accept with q-values, or a format= parameter."""

from __future__ import annotations

from typing import Any

from pactgraph.graph import Kind, PactgraphError
from pactgraph.graph.formats import RDF_FORMATS
from pactgraph.graph.sparql import GRAPH_FORMATS, SELECT_FORMATS

# media type -> format name, per answer kind (first is the default)
RESULTS = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPHS = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "text/plain": "ntriples",
    "application/n-quads": "nquads",
    "application/trig": "trig",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "application/rdf+xml": "rdfxml",
}


def _accepted(accept: str) -> list[tuple[float, int, str]]:
    out = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if media and q > 0:
            out.append((q, -i, media))
    return sorted(out, reverse=True)


def choose(kind: str, accept: str | None, fmt: str | None) -> str:
    """The format name to answer a query of `kind` in."""
    offered = GRAPHS if kind == "graph" else RESULTS
    names = GRAPH_FORMATS if kind == "graph" else SELECT_FORMATS
    if fmt:
        name = offered.get(fmt.lower(), fmt.lower())
        if name not in names:
            raise PactgraphError(
                Kind.NOT_ACCEPTABLE, f"format {fmt!r} cannot carry this answer; use one of {', '.join(names)}"
            )
        return name
    if not accept:
        return next(iter(offered.values()))
    for _q, _i, media in _accepted(accept):
        if media in offered:
            return offered[media]
        if media in ("*/*", "application/*", "text/*"):
            for m, name in offered.items():
                if media == "*/*" or m.startswith(media[:-1]):
                    return name
    raise PactgraphError(
        Kind.NOT_ACCEPTABLE,
        f"none of the accepted media types ({accept}) can carry this answer",
        detail={"offered": sorted(set(offered))},
    )


def documented_200(*media_types: str, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route answering 200 in `media_types` and in every RDF format."""
    media = (*media_types, *(f.media_type for f in RDF_FORMATS.values()))
    ok: dict[str, Any] = {"content": {m: {} for m in media}}
    if description:
        ok["description"] = description
    return {200: ok}

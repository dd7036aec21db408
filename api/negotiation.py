"""Content negotiation for SPARQL answers: Accept with q-values, or a format= parameter.

`format=` (and `output=` / `results=`, which SPARQLWrapper sends too) takes the names that common
clients send for each format: SPARQLWrapper's (json, xml, csv, tsv, turtle, n3, rdf, rdf+xml,
json-ld), Fuseki's (json, xml, sparql, csv, tsv, ttl, nt, nq, trig, jsonld…), Virtuoso's (media
types). The first value that can carry the answer wins. When none can, /sparql lets Accept decide
(a client that sends both, as SPARQLWrapper does, is answered by its Accept rather than refused);
other routes answer 406."""

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
    "application/turtle": "turtle",
    "text/n3": "turtle",  # Turtle is N3
    "text/rdf+n3": "turtle",
    "application/n3": "turtle",
    "application/n-triples": "ntriples",
    "text/plain": "ntriples",
    "application/n-quads": "nquads",
    "application/trig": "trig",
    "application/ld+json": "jsonld",
    "application/x-json+ld": "jsonld",
    "application/json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/xml": "rdfxml",
}
# format= names (beside the media types above), per answer kind
RESULT_NAMES = {
    "json": "json",
    "srj": "json",
    "xml": "xml",
    "srx": "xml",
    "sparql": "xml",  # Fuseki
    "csv": "csv",
    "tsv": "tsv",
}
GRAPH_NAMES = {
    "turtle": "turtle",
    "ttl": "turtle",
    "n3": "turtle",
    "nt": "ntriples",
    "ntriples": "ntriples",
    "n-triples": "ntriples",
    "nq": "nquads",
    "nquads": "nquads",
    "n-quads": "nquads",
    "trig": "trig",
    "jsonld": "jsonld",
    "json-ld": "jsonld",
    "json": "jsonld",
    "xml": "rdfxml",
    "rdf": "rdfxml",
    "rdfxml": "rdfxml",
    "rdf+xml": "rdfxml",
    "rdf/xml": "rdfxml",
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


def format_named(kind: str, value: str) -> str | None:
    """The format a `format=` value names for an answer of `kind`, None when it names none."""
    name = value.strip().lower()
    if kind == "graph":
        return GRAPH_NAMES.get(name) or GRAPHS.get(name.split(";")[0].strip())
    return RESULT_NAMES.get(name) or RESULTS.get(name.split(";")[0].strip())


def choose(kind: str, accept: str | None, fmt: str | list[str] | None, lenient: bool = False) -> str:
    """The format name to answer a query of `kind` in: the first `format=` value that names one,
    else (`lenient`; otherwise 406) by Accept; 406 when nothing acceptable can carry the answer."""
    offered = GRAPHS if kind == "graph" else RESULTS
    values = [fmt] if isinstance(fmt, str) else fmt or []
    for value in values:
        name = format_named(kind, value)
        if name is not None:
            return name
    if values and not lenient:
        names = GRAPH_FORMATS if kind == "graph" else SELECT_FORMATS
        raise PactgraphError(
            Kind.NOT_ACCEPTABLE,
            f"format {values[0]!r} cannot carry this answer; use one of {', '.join(names)}",
        )
    if not accept:
        return next(iter(offered.values()))
    for _q, _i, media in _accepted(accept):
        if media in offered:
            return offered[media]
        if media in ("*/*", "application/*", "text/*"):
            for m, name in offered.items():
                if media == "*/*" or m.startswith(media[:-1]):
                    return name
    if values:
        raise PactgraphError(
            Kind.NOT_ACCEPTABLE,
            f"neither format={values[0]!r} nor the accepted media types ({accept}) can carry this answer",
            detail={"offered": sorted(set(offered))},
        )
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

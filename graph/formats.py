"""RDF formats: names, file extensions and media types, for rdflib and for Oxigraph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from pactgraph.graph.errors import Kind, PactgraphError


@dataclass(frozen=True)
class RdfFormat:
    """One RDF serialization: its short name, rdflib's name, Oxigraph's enum and media type."""

    name: str
    rdflib: str
    oxigraph: ox.RdfFormat
    media_type: str
    extensions: tuple[str, ...]
    quads: bool


RDF_FORMATS: dict[str, RdfFormat] = {
    f.name: f
    for f in (
        RdfFormat("turtle", "turtle", ox.RdfFormat.TURTLE, "text/turtle", (".ttl", ".turtle"), False),
        RdfFormat("ntriples", "nt", ox.RdfFormat.N_TRIPLES, "application/n-triples", (".nt",), False),
        RdfFormat("nquads", "nquads", ox.RdfFormat.N_QUADS, "application/n-quads", (".nq",), True),
        RdfFormat("trig", "trig", ox.RdfFormat.TRIG, "application/trig", (".trig",), True),
        RdfFormat(
            "jsonld", "json-ld", ox.RdfFormat.JSON_LD, "application/ld+json", (".jsonld", ".json"), True
        ),
        RdfFormat(
            "rdfxml", "xml", ox.RdfFormat.RDF_XML, "application/rdf+xml", (".rdf", ".owl", ".xml"), False
        ),
    )
}

# Other spellings people use for the same formats (rdflib's names, common media types).
_ALIASES = {
    "ttl": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "nq": "nquads",
    "n-quads": "nquads",
    "json-ld": "jsonld",
    "xml": "rdfxml",
    "rdf/xml": "rdfxml",
    "rdf": "rdfxml",
    "text/plain": "ntriples",
    "application/x-turtle": "turtle",
    "application/json": "jsonld",
    "text/n3": "turtle",
}

CSV = "csv"


def rdf_format(name: str) -> RdfFormat:
    """The format called `name` (short name, alias or media type)."""
    key = name.strip().lower().split(";")[0].strip()
    key = _ALIASES.get(key, key)
    for fmt in RDF_FORMATS.values():
        if key in (fmt.name, fmt.media_type):
            return fmt
    known = ", ".join([*RDF_FORMATS, CSV])
    raise PactgraphError(Kind.BAD_INPUT, f"unknown format {name!r}; known formats: {known}")


def format_for_path(path: Path, explicit: str | None = None) -> str:
    """The ingest format of a file: `explicit` if given, else by extension ('csv' or an RDF format name)."""
    if explicit:
        return CSV if explicit.lower() in (CSV, "text/csv") else rdf_format(explicit).name
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CSV
    for fmt in RDF_FORMATS.values():
        if suffix in fmt.extensions:
            return fmt.name
    raise PactgraphError(
        Kind.BAD_INPUT,
        f"{path}: cannot tell the format from the extension {suffix!r}; "
        "use one of .ttl .nt .nq .trig .jsonld .rdf .csv or pass --format",
    )

"""What every dataset importer shares: the source description, row errors, the file-shape check,
the triples builder and the write through ingest's validated, atomic path.

An importer reads a dataset file as its publisher distributes it and yields triples for one
named graph per release (``…/graph/archigos-4.1``). Rows it cannot read become `RowError`s with
their line; without ``skip_bad_rows`` any of them stops the import before anything is written,
with it they are skipped and listed in the result. Nothing is dropped silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.ontology import ENTITY_BASE, GRAPH_BASE, PG

if TYPE_CHECKING:
    from pactgraph.graph.store import Store

T = TypeVar("T")
R = TypeVar("R")

Progress = Callable[[str, int, int], None]
"""(what is being done, done so far, total): called as rows are read and written."""


@dataclass(frozen=True)
class SourceDescription:
    """A dataset release as a pg:Source: what a user needs to find, cite and re-download it."""

    slug: str  # the release's id: its graph is GRAPH_BASE + slug, its node ENTITY_BASE + "source/" + slug
    title: str
    publisher: str
    version: str
    citation: str
    licence: str  # an IRI, or a sentence when the terms have no IRI
    download_url: str
    end_rule: str = "inclusive"  # "inclusive" or "exclusive": how its end dates read
    coverage_start: str | None = None
    coverage_end: str | None = None  # its spells still running then are ongoing as of this day

    @property
    def graph(self) -> str:
        return GRAPH_BASE + self.slug

    @property
    def iri(self) -> str:
        return ENTITY_BASE + "source/" + self.slug


@dataclass(frozen=True)
class RowError:
    """A row the importer could not read: the file, its line (1 = the header) and why."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}: {self.message}"


class BadRow(ValueError):
    """Raised by an importer's row reader; the framework adds the file and line."""


@dataclass
class ImportResult:
    """What an import wrote and what it had to say about the data."""

    dataset: str
    graph: str
    triples: int = 0
    rows: int = 0
    skipped: list[RowError] = field(default_factory=list)
    persons_new: int = 0
    persons_merged: int = 0
    near_misses: int = 0
    review_file: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "graph": self.graph,
            "triples": self.triples,
            "rows": self.rows,
            "skipped": [{"file": e.file, "line": e.line, "message": e.message} for e in self.skipped],
            "persons": {
                "new": self.persons_new,
                "merged": self.persons_merged,
                "near_misses": self.near_misses,
                "review_file": self.review_file,
            },
            "notes": self.notes,
        }


def require_columns(name: str, found: Sequence[str], needed: Sequence[str], dataset: str) -> None:
    """Refuse a file whose header lacks the dataset's columns, naming each one missing."""
    have = {c.strip().lower() for c in found}
    missing = [c for c in needed if c.lower() not in have]
    if missing:
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"{name}: not a {dataset} file: missing column(s) {', '.join(missing)}"
            f" (found {', '.join(c for c in found if c)[:300] or 'no header'})",
            detail={"file": name, "dataset": dataset, "missing": missing},
        )


def slug(text: str) -> str:
    """A readable IRI segment: ASCII, lower case, words joined by hyphens ("Ayatollah Khomeini" →
    "ayatollah-khomeini")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "unnamed"


# ---------------------------------------------------------------------------------------- triples

_TYPE = ox.NamedNode(str(RDF.type))
_LABEL = ox.NamedNode(str(RDFS.label))


class Triples:
    """The triples of one release's graph, as pyoxigraph terms (no rdflib term on the way)."""

    def __init__(self) -> None:
        self.items: list[ox.Triple] = []
        self._nodes: dict[str, ox.NamedNode] = {}

    def node(self, iri: str) -> ox.NamedNode:
        found = self._nodes.get(iri)
        if found is None:
            found = self._nodes[iri] = ox.NamedNode(iri)
        return found

    def entity(self, local: str) -> ox.NamedNode:
        return self.node(ENTITY_BASE + local)

    def pg(self, name: str) -> ox.NamedNode:
        return self.node(str(PG) + name)

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        self.items.append(ox.Triple(s, p, o))

    def a(self, s: ox.NamedNode, cls: str) -> None:
        self.add(s, _TYPE, self.pg(cls))

    def label(self, s: ox.NamedNode, text: str, lang: str = "en") -> None:
        self.add(s, _LABEL, ox.Literal(text, language=lang))

    def text(self, s: ox.NamedNode, p: str, value: str) -> None:
        self.add(s, self.pg(p), ox.Literal(value))

    def integer(self, s: ox.NamedNode, p: str, value: int) -> None:
        self.add(s, self.pg(p), ox.Literal(str(value), datatype=ox.NamedNode(str(XSD.integer))))

    def date(self, s: ox.NamedNode, p: str, value: str) -> None:
        """A date at its precision: YYYY-MM-DD, YYYY-MM or YYYY."""
        kind = {10: XSD.date, 7: XSD.gYearMonth}.get(len(value), XSD.gYear)
        self.add(s, self.pg(p), ox.Literal(value, datatype=ox.NamedNode(str(kind))))

    def link(self, s: ox.NamedNode, p: str, o: ox.NamedNode) -> None:
        self.add(s, self.pg(p), o)

    def describe_source(self, src: SourceDescription) -> ox.NamedNode:
        node = self.node(src.iri)
        self.a(node, "Source")
        self.label(node, f"{src.title} ({src.version})")
        self.add(node, self.node(str(DCTERMS.title)), ox.Literal(src.title, language="en"))
        self.add(node, self.node(str(DCTERMS.publisher)), ox.Literal(src.publisher, language="en"))
        if src.licence.startswith("http"):
            self.add(node, self.node(str(DCTERMS.license)), self.node(src.licence))
        else:
            self.add(node, self.node(str(DCTERMS.rights)), ox.Literal(src.licence, language="en"))
        self.text(node, "version", src.version)
        self.text(node, "citation", src.citation)
        self.add(
            node, self.pg("downloadUrl"), ox.Literal(src.download_url, datatype=ox.NamedNode(str(XSD.anyURI)))
        )
        self.link(node, "endRule", self.pg("ExclusiveEnd" if src.end_rule == "exclusive" else "InclusiveEnd"))
        if src.coverage_start:
            self.date(node, "coverageStart", src.coverage_start)
        if src.coverage_end:
            self.date(node, "coverageEnd", src.coverage_end)
        return node

    def ntriples(self) -> bytes:
        """The triples as N-Triples, for ingest's parser (pyoxigraph's serializer, so escaping is
        the engine's own)."""
        return ox.serialize(self.items, format=ox.RdfFormat.N_TRIPLES) or b""


# ---------------------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class InputFile:
    """A file to import: its name (for messages) and bytes (from disk or an upload)."""

    name: str
    data: bytes


Records = Any
RowSink = Callable[[RowError], None]


@dataclass(frozen=True)
class Dataset:
    """One importer. `read` checks the files' shape (refusing a wrong file with what is missing),
    reads every row (reporting each unreadable one to the sink with its line) and returns records;
    `source` describes the release those records come from; `build` adds their triples and
    returns near misses of person reconciliation for the review file."""

    name: str
    summary: str
    files: str  # what file(s) it takes, as the publisher names them
    read: Callable[[list[InputFile], RowSink, Progress | None], Records]
    source: Callable[[Records], SourceDescription]
    build: Callable[[Store, Records, Triples, ImportResult], list[dict[str, str]]]
    count: Callable[[Records], int] = len


def read_rows(
    rows: Iterable[tuple[int, T]],
    file: str,
    parse: Callable[[T], R | None],
    bad: RowSink,
    progress: Progress | None = None,
    total: int = 0,
) -> list[R]:
    """Parse each (line, row); a `BadRow` becomes a RowError with its line, never a silent drop."""
    out: list[R] = []
    for i, (line, row) in enumerate(rows):
        try:
            parsed = parse(row)
        except BadRow as exc:
            bad(RowError(file, line, str(exc)))
            continue
        if parsed is not None:
            out.append(parsed)
        if progress and i % 200 == 0:
            progress(f"read {file}", i, total)
    if progress:
        progress(f"read {file}", total, total)
    return out


def read_csv_rows(
    file: InputFile, encoding: str, dataset: str, needed: Sequence[str], delimiter: str = ","
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV file's header and its rows with their line numbers (the header is line 1), refusing a
    file that is not text in `encoding` or lacks a needed column (`delimiter`: DESTA's is ";")."""
    import csv
    import io

    try:
        text = file.data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"{file.name}: not a {dataset} file: not {encoding} text ({exc.reason} at byte {exc.start})",
        ) from exc
    if "\x00" in text[:4096]:
        raise PactgraphError(Kind.BAD_INPUT, f"{file.name}: not a {dataset} file: binary data, not CSV text")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    header = next(reader, [])
    require_columns(file.name, header, needed, dataset)
    names = [h.strip().lower() for h in header]
    rows = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        rows.append((line, {names[i]: row[i].strip() if i < len(row) else "" for i in range(len(names))}))
    return header, rows


def day(year: str, month: str, dayno: str, what: str) -> str:
    """YYYY-MM-DD from three numeric cells, or BadRow naming the field."""
    import datetime

    try:
        y, m, d = int(float(year)), int(float(month)), int(float(dayno))
        return datetime.date(y, m, d).isoformat()
    except (ValueError, OverflowError) as exc:
        raise BadRow(f"{what} is not a date: {year!r}-{month!r}-{dayno!r}") from exc


def integer(value: str, what: str) -> int:
    try:
        return int(float(value))
    except (ValueError, OverflowError) as exc:
        raise BadRow(f"{what} is not a number: {value!r}") from exc

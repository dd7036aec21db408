"""Ingest: parse a source, normalise it into one named graph, validate with SHACL, write atomically.

Each file becomes one named graph under the graph base (``…/graph/seed/russia-iran-pact-2025``);
quad formats keep the graphs they name. Re-ingesting a source replaces its graphs, so the
same file ingested twice leaves the store as it was. Nothing is written unless the whole
batch parses and conforms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph, Literal, URIRef

from graph.csvfacts import read_csv
from graph.errors import Kind, PactgraphError
from graph.formats import CSV, RDF_FORMATS, format_for_path, rdf_format
from graph.shacl import Report, validate
from graph.store import Store, term, writable_iri
from ontology import GRAPH_BASE, ONTOLOGY_GRAPH, ONTOLOGY_PATH, PG

Progress = Callable[[str, int, int], None]  # (file name, files done, files in all)


@dataclass(frozen=True)
class SourceInput:
    """One thing to ingest: bytes with a name, a format and the graph they go to."""

    name: str
    data: bytes
    format: str
    graph: URIRef


@dataclass
class IngestResult:
    """What an ingest wrote: per graph, its triple count and the file it came from."""

    graphs: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # graph -> file name

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def graph_for(name: str) -> URIRef:
    """The named graph of a source file: its file name without extension, however it was reached
    (so `ingest data/` and `ingest data/seed/x.ttl` write the same graph)."""
    stem = Path(name).stem if "." in Path(name).name else Path(name).name
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "upload"
    return URIRef(GRAPH_BASE + slug)


_ENTITY = re.compile(rb"<!ENTITY\s+(%\s*)?([^\s\"']+)\s+(?:\"([^\"]*)\"|'([^']*)'|(\S+))", re.S)
_TAG = re.compile(rb"<(/?)[A-Za-z_][^<>]*?(/?)>")
MAX_XML_DEPTH = 1000
MAX_EXPANSION = 1 << 20


def _check_rdfxml(data: bytes, name: str) -> None:
    """Refuse what Oxigraph's RDF/XML parser cannot bound: it expands DTD entities with no limit
    (a 1 KB "billion laughs" asks for gigabytes and aborts the process) and slows down far more
    than linearly with element depth (40,000 levels: minutes). Flat entities, as ontology editors
    write them for namespaces, stay allowed."""
    expansion = 0
    for m in _ENTITY.finditer(data):
        parameter, entity, value = m.group(1), m.group(2), m.group(3) or m.group(4)
        if parameter or value is None or b"&" in value or b"%" in value:
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"{name}: RDF/XML with external, parameter or nested entity declarations is refused",
            )
        expansion += data.count(b"&" + entity + b";") * len(value)
    if expansion > MAX_EXPANSION:
        raise PactgraphError(
            Kind.BAD_INPUT, f"{name}: its XML entities expand to {expansion} bytes; at most {MAX_EXPANSION}"
        )
    depth = deepest = 0
    for m in _TAG.finditer(data):
        if m.group(1):
            depth -= 1
        elif not m.group(2):
            depth += 1
            deepest = max(deepest, depth)
        if deepest > MAX_XML_DEPTH:
            raise PactgraphError(
                Kind.BAD_INPUT, f"{name}: XML elements nested more than {MAX_XML_DEPTH} levels deep"
            )


def parse(source: SourceInput) -> dict[URIRef, Graph]:
    """Parse one source into graphs; default-graph triples go to the source's graph."""
    graphs: dict[URIRef, Graph] = {source.graph: Graph(identifier=source.graph)}
    if source.format == CSV:
        for triple in read_csv(source.data, source.name):
            graphs[source.graph].add(triple)
        return graphs
    fmt = rdf_format(source.format)
    if fmt.name == "rdfxml":
        _check_rdfxml(source.data, source.name)
    try:
        for quad in ox.parse(source.data, format=fmt.oxigraph, base_iri=str(source.graph)):
            # Blank-node graph names (JSON-LD's anonymous @graph) fold into the file's graph.
            named = isinstance(quad.graph_name, ox.NamedNode)
            name = URIRef(quad.graph_name.value) if named else source.graph
            g = graphs.setdefault(name, Graph(identifier=name))
            g.add((term(quad.subject), term(quad.predicate), term(quad.object)))
    except SyntaxError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{source.name}: not valid {fmt.name}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{source.name}: not UTF-8 text ({exc})") from exc
    return graphs


def _describe(graph: Graph, source: SourceInput) -> None:
    """Record in the graph itself where it came from (idempotent: no timestamps)."""
    g = graph.identifier
    assert isinstance(g, URIRef)
    graph.add((g, RDF.type, PG.SourceGraph))
    graph.add((g, PG.ingestedFrom, Literal(source.name)))
    graph.add((g, PG.sha256, Literal(hashlib.sha256(source.data).hexdigest())))
    for s in list(graph.subjects(RDF.type, PG.Source)):
        graph.add((g, PG.describes, s))


def _context(store: Store, batch: Graph, replaced: Iterable[URIRef]) -> Graph:
    """What the store already says about the batch's nodes, outside the graphs being replaced.

    Shapes check that a membership's organisation is an organisation, a sanction has a
    start…; those facts may live in other sources already in the store.
    """
    nodes = {n for t in batch for n in (t[0], t[2]) if isinstance(n, URIRef) and writable_iri(n)}
    skip = set(replaced)
    context = Graph()
    ordered = sorted(nodes)
    for i in range(0, len(ordered), 400):
        values = " ".join(n.n3() for n in ordered[i : i + 400])
        rows = store.select(
            f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
        for r in rows:
            if r["g"] not in skip and r["g"] != ONTOLOGY_GRAPH:
                context.add((r["s"], r["p"], r["o"]))
    return context


def check(store: Store | None, graphs: dict[URIRef, Graph]) -> Report:
    """Validate a batch of graphs together, with what the store knows about their nodes."""
    batch = Graph()
    for g in graphs.values():
        batch += g
    context = _context(store, batch, graphs) if store is not None else None
    report = validate(batch, context)
    subjects = {str(s) for s in batch.subjects()}
    # Only the batch's own nodes can fail it; the store's other facts are context.
    kept = [v for v in report.violations if v.focus in subjects]
    return Report(conforms=not kept, violations=kept)


def _owner(graphs: dict[URIRef, Graph], names: dict[URIRef, str], focus: str) -> str:
    node = URIRef(focus)
    for g, graph in graphs.items():
        if (node, None, None) in graph:
            return names.get(g, str(g))
    return "?"


def ingest(
    store: Store,
    sources: list[SourceInput],
    *,
    validate_shapes: bool = True,
    progress: Progress | None = None,
) -> IngestResult:
    """Parse, validate and write a batch of sources: all of them or, on any error, none."""
    graphs: dict[URIRef, Graph] = {}
    names: dict[URIRef, str] = {}
    for i, source in enumerate(sources):
        if progress:
            progress(source.name, i, len(sources))
        parsed = parse(source)
        _describe(parsed[source.graph], source)
        for name, g in parsed.items():
            if name in graphs:
                raise PactgraphError(
                    Kind.BAD_INPUT, f"{source.name}: graph {name} is also written by {names[name]}"
                )
            graphs[name] = g
            names[name] = source.name
    if validate_shapes:
        report = check(store, graphs)
        if not report.conforms:
            files = sorted({_owner(graphs, names, v.focus) for v in report.violations})
            raise PactgraphError(
                Kind.INVALID,
                f"{', '.join(files)}: {len(report.violations)} shape violation(s):\n{report.text()}",
                detail=[
                    {
                        "file": _owner(graphs, names, v.focus),
                        "focus": v.focus,
                        "path": v.path,
                        "rule": v.rule,
                        "message": v.message,
                        "value": v.value,
                    }
                    for v in report.violations
                ],
            )
    store.replace_graphs({name: iter(g) for name, g in graphs.items()})
    if progress:
        progress("", len(sources), len(sources))
    return IngestResult(
        graphs={str(k): len(v) for k, v in graphs.items()}, files={str(k): names[k] for k in graphs}
    )


def read_sources(paths: Iterable[Path], fmt: str | None = None) -> list[SourceInput]:
    """Files to ingest: each path, or every RDF/CSV file under a directory (sorted, recursive).

    A graph is named after the path relative to the directory given (or the file name).
    """
    out: list[SourceInput] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _ingestible(p))
            if not files:
                raise PactgraphError(Kind.BAD_INPUT, f"{path}: no RDF or CSV files in this directory")
            out.extend(_read(p, p.relative_to(path).as_posix(), fmt) for p in files)
        elif path.exists():
            out.append(_read(path, path.name, fmt))
        else:
            raise PactgraphError(Kind.BAD_INPUT, f"{path}: no such file or directory")
    return out


def _ingestible(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix == ".csv" or any(suffix in f.extensions for f in RDF_FORMATS.values())


def _read(path: Path, name: str, fmt: str | None) -> SourceInput:
    kind = format_for_path(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{path}: cannot read ({exc.strerror})") from exc
    return SourceInput(name=name, data=data, format=kind, graph=graph_for(name))


def load_ontology(store: Store) -> int:
    """(Re)write the ontology into its own named graph; returns its triple count."""
    g = Graph().parse(ONTOLOGY_PATH)
    store.replace_graphs({ONTOLOGY_GRAPH: iter(g)})
    return len(g)

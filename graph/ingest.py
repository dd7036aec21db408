"""Ingest: parse a source, normalise it into one named graph, validate with SHACL, write atomically.

Each file becomes one named graph under the graph base (``…/graph/seed/russia-iran-pact-2025``);
quad formats keep the graphs they name. Re-ingesting a source replaces its graphs, so the
same file ingested twice leaves the store as it was. Nothing is written unless the whole
batch parses and conforms.

A graph records where it came from (`pg:origin`: the bundled data, a dataset import, a file, and
the file's name): a graph that came from another source is replaced only when the caller says so
(`replace`), and the refusal names the source that holds it. No write names a reserved graph
(pactgraph's own, or the ontology, which `ensure_ontology` writes from the package).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import pyoxigraph as ox
from rdflib import RDF, Graph, Literal, URIRef

from pactgraph.data import DATA_DIR
from pactgraph.graph.csvfacts import Reference, read_csv
from pactgraph.graph.derive import Context, context_rows, normalise
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.formats import CSV, RDF_FORMATS, format_for_path, rdf_format
from pactgraph.graph.shacl import Report, Violation, unchecked_marks, validate_store
from pactgraph.graph.store import Store, data_graph, reserved_graph, term, to_ox, writable_iri
from pactgraph.ontology import ENTITY_BASE, GRAPH_BASE, ONTOLOGY_GRAPH, ONTOLOGY_PATH, PG

Progress = Callable[[str, int, int], None]  # (file name, files done, files in all)
log = logging.getLogger("pactgraph.ingest")

FILE = "file"
BUNDLED = "bundled"
IMPORT = "import:"  # + the dataset's name


@dataclass(frozen=True)
class SourceInput:
    """One thing to ingest: bytes with a name, a format and the graph they go to; `origin` says
    where it came from (FILE, BUNDLED, or IMPORT + a dataset's name), recorded in its graph."""

    name: str
    data: bytes
    format: str
    graph: URIRef
    origin: str = FILE


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
    # Oxigraph's parser keeps what it read when the document stops early (the root element never
    # closed, a cut inside a tag): a truncated upload would replace a graph with its first part.
    # Expat reads the whole document (entities and depth are bounded above): well-formed to the end.
    try:
        expat.ParserCreate().Parse(data, True)
    except expat.ExpatError as exc:
        raise PactgraphError(
            Kind.BAD_INPUT, f"{name}: not well-formed XML, or it ends before its root element closes ({exc})"
        ) from exc


_RDF_TYPE = ox.NamedNode(str(RDF.type))
_ORIGIN = ox.NamedNode(str(PG.origin))
_INGESTED_FROM = ox.NamedNode(str(PG.ingestedFrom))
_SHA256 = ox.NamedNode(str(PG.sha256))
_SOURCE = ox.NamedNode(str(PG.Source))
_CONTEXT = ox.NamedNode("urn:pactgraph:ingest:context")  # the store's facts, beside the batch
_QUOTED = (b"<<", b"parseType", b"@triple", b"@annotation")  # what RDF 1.2 triple terms need


def _load(source: SourceInput, batch: ox.Store, references: list[Reference] | None = None) -> list[URIRef]:
    """Parse one source into `batch` (an in-memory pyoxigraph store), its default-graph triples in
    the source's graph; returns the graphs it wrote. The parser writes pyoxigraph terms straight
    into the store: no rdflib term is made on the way. A CSV's references to ids are added to
    `references`, to be checked once the whole batch is parsed."""
    target = ox.NamedNode(str(source.graph))
    if source.format == CSV:
        facts = read_csv(source.data, source.name)  # small rdflib batches: converted here
        batch.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), target) for s, p, o in facts.triples)  # type: ignore[arg-type]
        if references is not None:
            references.extend(facts.references)
        return [source.graph]
    fmt = rdf_format(source.format)
    if fmt.name == "rdfxml":
        _check_rdfxml(source.data, source.name)
    try:
        if not fmt.quads:
            batch.load(source.data, fmt.oxigraph, base_iri=str(source.graph), to_graph=target)
            written = [target]
        else:
            # Quad formats keep the graphs they name; blank-node graph names (JSON-LD's anonymous
            # @graph) fold into the file's graph.
            own = ox.Store()
            own.load(source.data, fmt.oxigraph, base_iri=str(source.graph), to_graph=target)
            written = [target]
            for g in own.named_graphs():
                if isinstance(g, ox.NamedNode):
                    if g != target:
                        written.append(g)
                    batch.extend(own.quads_for_pattern(None, None, None, g))
                else:
                    batch.extend(
                        ox.Quad(q.subject, q.predicate, q.object, target)
                        for q in own.quads_for_pattern(None, None, None, g)
                    )
    except SyntaxError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{source.name}: not valid {fmt.name}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{source.name}: not UTF-8 text ({exc})") from exc
    if any(t in source.data for t in _QUOTED) and any(
        batch.query(f"ASK {{ GRAPH {g} {{ ?s ?p ?o FILTER(isTRIPLE(?s) || isTRIPLE(?o)) }} }}")
        for g in written
    ):
        raise PactgraphError(Kind.BAD_INPUT, f"{source.name}: RDF-star quoted triples are not supported")
    return [URIRef(g.value) for g in written]


def parse(source: SourceInput) -> dict[URIRef, Graph]:
    """Parse one source into rdflib graphs; default-graph triples go to the source's graph
    (for callers that want rdflib; ingest itself keeps pyoxigraph terms)."""
    batch = ox.Store()
    names = _load(source, batch)
    graphs: dict[URIRef, Graph] = {}
    for name in names:
        g = graphs[name] = Graph(identifier=name)
        for q in batch.quads_for_pattern(None, None, None, ox.NamedNode(str(name))):
            g.add((term(q.subject), term(q.predicate), term(q.object)))
    return graphs


def _describe(batch: ox.Store, source: SourceInput) -> None:
    """Record in the source's graph itself where it came from (idempotent: no timestamps)."""
    g = ox.NamedNode(str(source.graph))
    quads = [
        ox.Quad(g, _RDF_TYPE, ox.NamedNode(str(PG.SourceGraph)), g),
        ox.Quad(g, ox.NamedNode(str(PG.ingestedFrom)), ox.Literal(source.name), g),
        ox.Quad(g, ox.NamedNode(str(PG.sha256)), ox.Literal(hashlib.sha256(source.data).hexdigest()), g),
        ox.Quad(g, _ORIGIN, ox.Literal(source.origin), g),
    ]
    describes = ox.NamedNode(str(PG.describes))
    quads += [
        ox.Quad(g, describes, q.subject, g) for q in batch.quads_for_pattern(None, _RDF_TYPE, _SOURCE, g)
    ]
    batch.extend(quads)


def _context_graphs(context: Store | ox.Store) -> list[str]:
    if isinstance(context, ox.Store):
        return [g.value for g in context.named_graphs() if isinstance(g, ox.NamedNode)]
    native = context.oxigraph
    if native is not None:
        return [g.value for g in native.named_graphs() if isinstance(g, ox.NamedNode)]
    return [str(g) for g in context.graph_names()]


def _described(context: Store | ox.Store, iris: list[str], skip: set[str]) -> list[ox.Quad]:
    """Every statement about `iris` in `context`, outside the graphs in `skip` and pactgraph's own
    (a write's staging graphs, a server's copy of the merge), as quads of the context graph;
    asked in bounded VALUES batches."""
    out: list[ox.Quad] = []
    native = context if isinstance(context, ox.Store) else context.oxigraph
    for i in range(0, len(iris), 400):
        values = " ".join(f"<{n}>" for n in iris[i : i + 400])
        query = f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        if native is not None:
            found = native.query(query)
            assert isinstance(found, ox.QuerySolutions)
            for s, p, o, g in found:
                if isinstance(g, ox.NamedNode) and g.value not in skip and data_graph(g.value):
                    out.append(ox.Quad(s, p, o, _CONTEXT))
        else:
            assert isinstance(context, Store)
            for r in context.select(query):
                if str(r["g"]) not in skip and data_graph(str(r["g"])):
                    out.append(ox.Quad(to_ox(r["s"]), to_ox(r["p"]), to_ox(r["o"]), _CONTEXT))  # type: ignore[arg-type]
    return out


def _context(context: Store | ox.Store, batch: ox.Store, replaced: Iterable[URIRef]) -> list[ox.Quad]:
    """What the store already says about the batch's nodes, outside the graphs being replaced.

    Shapes check that a membership's organisation is an organisation, a sanction has a
    start…; those facts may live in other sources already in the store. So do the classes of
    what those facts point to: a fact another graph already holds cites that graph's sources,
    whose `pg:Source` type is in that graph, not beside the fact (without it, adding a second
    source's triples to a fact read the first source as "not a pg:Source"). Skipped when the
    store holds no graph but the ontology and those replaced."""
    skip = {str(g) for g in replaced} | {str(ONTOLOGY_GRAPH)}
    if not [g for g in _context_graphs(context) if g not in skip and data_graph(g)]:
        return []
    rows = batch.query(
        "SELECT DISTINCT ?n WHERE { GRAPH ?g { { ?n ?p ?o } UNION { ?s ?p ?n } } FILTER(isIRI(?n)) }"
    )
    assert isinstance(rows, ox.QuerySolutions)
    nodes = {n.value for (n,) in rows if writable_iri(URIRef(n.value))}
    out = _described(context, sorted(nodes), skip)
    # One hop further, only for the classes of the values those statements point to.
    beyond = sorted(
        {q.object.value for q in out if isinstance(q.object, ox.NamedNode) and q.object.value not in nodes}
    )
    if beyond:
        seen = set(out)
        out += [q for q in _described(context, beyond, skip) if q.predicate == _RDF_TYPE and q not in seen]
    return out


def _check_batch(context: Store | ox.Store | None, batch: ox.Store, names: Iterable[URIRef]) -> Report:
    """Validate the batch (every graph of `batch`) with what the context knows about its nodes;
    only the batch's own nodes can fail it. The context is added for the run and removed after."""
    rows = batch.query("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert isinstance(rows, ox.QuerySolutions)
    subjects = {str(term(s)) for (s,) in rows}
    if context is not None:
        batch.extend(_context(context, batch, names))
    try:
        report = validate_store(batch)
    finally:
        batch.remove_graph(_CONTEXT)
    kept = [v for v in report.violations if v.focus in subjects]
    return Report(conforms=not kept, violations=kept)


def unknown_references(context: Context, batch: ox.Store, references: list[Reference]) -> list[Reference]:
    """The references (ids a CSV row names) that nothing in the batch or the context describes:
    an id is known when it is the subject of some statement there."""
    missing = sorted(
        {
            r.iri
            for r in references
            if next(iter(batch.quads_for_pattern(ox.NamedNode(r.iri), None, None)), None) is None
        }
    )
    known: set[str] = set()
    for i in range(0, len(missing), 400):
        values = " ".join(f"<{n}>" for n in missing[i : i + 400])
        known |= {n for (n,) in context_rows(context, f"VALUES ?n {{ {values} }} ?n ?p ?o", ("n",))}
    unknown = set(missing) - known
    return [r for r in references if r.iri in unknown]


def _refuse_unknown(unknown: list[Reference]) -> None:
    if not unknown:
        return
    lines = [f"{r.where}: {_local(r.iri)} is not described in this batch or in the store" for r in unknown]
    shown = "\n".join(lines[:20]) + (f"\n… and {len(lines) - 20} more" if len(lines) > 20 else "")
    raise PactgraphError(
        Kind.INVALID,
        f"{len(unknown)} reference(s) to unknown ids:\n{shown}",
        detail=[
            {"where": r.where, "id": r.iri, "message": line} for r, line in zip(unknown, lines, strict=True)
        ],
    )


def refusal(report: Report, owner: Callable[[str], str]) -> PactgraphError:
    """The 422 of every write path: the violations, each with where its node came from (`owner`
    of its focus: a file for ingest, a graph for other writes)."""
    where = sorted({owner(v.focus) for v in report.violations})
    return PactgraphError(
        Kind.INVALID,
        f"{', '.join(where)}: {len(report.violations)} shape violation(s):\n{report.text()}",
        detail=[
            {
                "file": owner(v.focus),
                "focus": v.focus,
                "path": v.path,
                "rule": v.rule,
                "message": v.message,
                "value": v.value,
            }
            for v in report.violations
        ],
    )


def _local(iri: str) -> str:
    return iri.removeprefix(ENTITY_BASE)


def context_from(sources: list[SourceInput]) -> ox.Store:
    """A pyoxigraph store of `sources`, parsed as ingest would but neither checked nor written:
    the context a file is validated with when no store is given (the bundled data)."""
    context = ox.Store()
    for source in sources:
        _load(source, context)
    return context


def validate_sources(context: Store | ox.Store | None, sources: list[SourceInput]) -> Report:
    """Validate sources together as `ingest` would (with what `context` — the store, or a store of
    reference data — knows about their nodes), writing nothing: parsed once, into the same kind
    of batch. A CSV row's reference to an id described nowhere is reported as a violation too."""
    batch = ox.Store()
    names: list[URIRef] = []
    references: list[Reference] = []
    for source in sources:
        names += _load(source, batch, references)
    unknown = unknown_references(context, batch, references)
    report = _check_batch(context, batch, names)
    if not unknown:
        return report
    refused = [
        Violation(
            r.iri, None, "UnknownReference", f"{r.where}: not described in these files or in the context"
        )
        for r in unknown
    ]
    return Report(conforms=False, violations=refused + report.violations)


def _owner(batch: ox.Store, names: dict[URIRef, str], focus: str) -> str:
    try:
        node = ox.NamedNode(focus)
    except ValueError:  # a blank node's label
        return "?"
    for q in batch.quads_for_pattern(node, None, None, None):
        if isinstance(q.graph_name, ox.NamedNode):
            return names.get(URIRef(q.graph_name.value), q.graph_name.value)
    return "?"


@dataclass(frozen=True)
class Holder:
    """The source a graph came from, as the graph records it (`_describe`)."""

    origin: str
    name: str
    sha256: str = ""

    def same(self, other: Holder) -> bool:
        """The same source: the same bytes (a bundled file ingested from a checkout), the bundled
        data (whatever file of it), the same dataset's import, or a file of the same name
        (however it was reached: `data/x.ttl` and `x.ttl` are one file)."""
        if self.sha256 and self.sha256 == other.sha256:
            return True
        if self.origin != other.origin:
            return False
        return self.origin != FILE or Path(self.name).name == Path(other.name).name

    def __str__(self) -> str:
        if self.origin == BUNDLED:
            return f"pactgraph's bundled data ({self.name})"
        if self.origin.startswith(IMPORT):
            return f"the {self.origin.removeprefix(IMPORT)} import ({self.name})"
        return f"the file {self.name!r}"


def holder(store: Store, graph: URIRef) -> Holder | None:
    """Who holds a graph: None when it is empty, or was written by no ingest (a Graph Store or
    SPARQL Update write, which names its graph itself); a graph of an older pactgraph, with no
    origin recorded, came from the file it names."""
    g = ox.NamedNode(str(graph))
    if next(store.match(graph=g), None) is None:
        return None
    name = next((q.object for q in store.match(g, _INGESTED_FROM, None, g)), None)
    if not isinstance(name, ox.Literal):
        return None
    origin = next((q.object for q in store.match(g, _ORIGIN, None, g)), None)
    digest = next((q.object for q in store.match(g, _SHA256, None, g)), None)
    return Holder(
        origin.value if isinstance(origin, ox.Literal) else FILE,
        name.value,
        digest.value if isinstance(digest, ox.Literal) else "",
    )


def _refuse_taken(store: Store, sources: dict[URIRef, SourceInput]) -> None:
    """Refuse (409, nothing written) to replace a graph that another source holds."""
    for graph, source in sorted(sources.items()):
        held = holder(store, graph)
        mine = Holder(source.origin, source.name, hashlib.sha256(source.data).hexdigest())
        if held is not None and not held.same(mine):
            raise PactgraphError(
                Kind.CONFLICT,
                f"{source.name}: the graph <{graph}> holds {held}; "
                "say replace (HTTP ?replace=true, CLI --replace) to replace it",
                detail={"graph": str(graph), "origin": held.origin, "name": held.name},
            )


def _sizes(batch: ox.Store) -> dict[URIRef, int]:
    """Triples per graph of a batch. (A function of its own: the engine's answer object must not
    outlive it in the frame of a write that fails, whose traceback another thread drops.)"""
    counts = batch.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(counts, ox.QuerySolutions)
    return {
        URIRef(g.value): int(n.value)
        for g, n in counts
        if isinstance(g, ox.NamedNode) and isinstance(n, ox.Literal)
    }


def ingest(
    store: Store,
    sources: list[SourceInput],
    *,
    validate_shapes: bool = True,
    progress: Progress | None = None,
    replace: bool = False,
) -> IngestResult:
    """Parse, validate and write a batch of sources: all of them or, on any error, none.

    A graph the store holds from another source (`holder`) is replaced only with `replace`;
    a reserved graph (`reserved_graph`: pactgraph's own, the ontology) is never written.

    The batch is one in-memory pyoxigraph store (one graph per target graph), parsed into by
    pyoxigraph's own parsers, validated in place (ids a CSV names must be described in the batch
    or the store; then the shapes), given the normalised days of its dates (graph/derive.py)
    and written with the store's native handle."""
    batch = ox.Store()
    names: dict[URIRef, str] = {}
    writers: dict[URIRef, SourceInput] = {}
    references: list[Reference] = []
    for i, source in enumerate(sources):
        if progress:
            progress(source.name, i, len(sources))
        if source.graph in names:
            # Checked before parsing: the source would merge into the graph already parsed.
            _load(source, ox.Store())
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"{source.name}: graph {source.graph} is also written by {names[source.graph]}",
            )
        parsed = _load(source, batch, references)
        _describe(batch, source)
        for name in parsed:
            why = reserved_graph(str(name))
            if why is not None:
                raise PactgraphError(
                    Kind.BAD_INPUT, f"{source.name}: the graph <{name}> {why}: a write cannot name it"
                )
            if name in names:
                raise PactgraphError(
                    Kind.BAD_INPUT, f"{source.name}: graph {name} is also written by {names[name]}"
                )
            names[name] = source.name
            writers[name] = source
    with store.writing(bump=False):  # checked on what the store holds when the batch is written
        if not replace:
            _refuse_taken(store, writers)
        if validate_shapes:
            _refuse_unknown(unknown_references(store, batch, references))
            report = _check_batch(store, batch, names)
            if not report.conforms:
                raise refusal(report, lambda focus: _owner(batch, names, focus))
        else:  # the skip is recorded in each graph written, as on every write path (graph/writes.py)
            batch.extend(unchecked_marks(ox.NamedNode(str(g)) for g in names))
        normalise(batch, store, [ox.NamedNode(str(g)) for g in names])
        sizes = _sizes(batch)
        store.replace_graphs_native(batch, list(names))
    if progress:
        progress("", len(sources), len(sources))
    return IngestResult(
        graphs={str(k): sizes.get(k, 0) for k in names}, files={str(k): v for k, v in names.items()}
    )


EXAMPLES = "examples"
"""A folder of this name is left out when a folder above it is read (the bundled data's example
CSV files are not part of its graph); name it to ingest it (`pactgraph ingest data/examples`)."""


def read_sources(paths: Iterable[Path], fmt: str | None = None) -> list[SourceInput]:
    """Files to ingest: each path, or every RDF/CSV file under a directory (sorted, recursive),
    leaving out the files of any `examples` folder below the directory given.

    A graph is named after the path relative to the directory given (or the file name). Files
    of pactgraph's own data folder (DATA_DIR) are the bundled data (origin BUNDLED).
    """
    out: list[SourceInput] = []
    bundled = DATA_DIR.resolve()
    for path in paths:
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and _ingestible(p) and EXAMPLES not in p.relative_to(path).parts[:-1]
            )
            if not files:
                raise PactgraphError(Kind.BAD_INPUT, f"{path}: no RDF or CSV files in this directory")
            out.extend(_read(p, p.relative_to(path).as_posix(), fmt, bundled) for p in files)
        elif path.exists():
            out.append(_read(path, path.name, fmt, bundled))
        else:
            raise PactgraphError(Kind.BAD_INPUT, f"{path}: no such file or directory")
    return out


def _ingestible(path: Path) -> bool:
    suffix = path.suffix.lower()
    return suffix == ".csv" or any(suffix in f.extensions for f in RDF_FORMATS.values())


def _read(path: Path, name: str, fmt: str | None, bundled: Path) -> SourceInput:
    kind = format_for_path(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{path}: cannot read ({exc.strerror})") from exc
    origin = BUNDLED if path.resolve().is_relative_to(bundled) else FILE
    return SourceInput(name=name, data=data, format=kind, graph=graph_for(name), origin=origin)


def _ontology_digest() -> str:
    return hashlib.sha256(ONTOLOGY_PATH.read_bytes()).hexdigest()


def load_ontology(store: Store) -> int:
    """(Re)write the ontology into its own named graph, with the SHA-256 of the package's file it
    came from (`ensure_ontology` compares it); returns the ontology's triple count."""
    g = Graph().parse(ONTOLOGY_PATH)
    mark = (ONTOLOGY_GRAPH, PG.sha256, Literal(_ontology_digest()))
    store.replace_graphs({ONTOLOGY_GRAPH: itertools.chain(g, [mark])})
    return len(g)


def ensure_ontology(store: Store) -> bool:
    """Write the ontology graph from the package unless it holds the package's ontology already
    (its SHA-256 mark): a store changed by other means, or by an older pactgraph, gets the
    package's again. True when it was (re)written."""
    g = ox.NamedNode(str(ONTOLOGY_GRAPH))
    digest = ox.Literal(_ontology_digest())
    marks = [q.object for q in store.match(g, ox.NamedNode(str(PG.sha256)), None, g)]
    if marks == [digest]:
        return False
    log.info("writing the ontology graph from %s", ONTOLOGY_PATH)
    load_ontology(store)
    return True

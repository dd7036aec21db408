"""The store: one class that owns the rdflib Dataset and hides the backend behind it.

Store URLs: ``memory:`` (rdflib in memory), ``oxigraph:PATH`` (Oxigraph on disk, the
default). SPARQL runs on the backend's native engine: on Oxigraph the query string goes
to Oxigraph itself (oxrdflib passes strings and bindings through as substitutions), and
hot paths may ask for the pyoxigraph handle directly (`Store.oxigraph`).

An ``oxigraph:PATH`` store has a durable *generation*: a random token in
``PATH.pactgraph/generation`` (a sibling of RocksDB's own directory), removed before every write
through this class and written anew once the write is over. A snapshot of what was built from
the store (graph/snapshot.py) is trusted only while the generation it was made at is still
there, so a write from any process, or one a crash cut short, makes it stale.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib.plugins.sparql
from oxrdflib import OxigraphStore
from oxrdflib._converter import from_ox, to_ox
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore
from rdflib.query import Result
from rdflib.term import Identifier, Node

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.remote import Endpoint

# rdflib would fetch FROM/FROM NAMED graphs from the web; a query never reaches the network.
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False

DEFAULT_STORE = "oxigraph:" + str(Path.home() / ".local" / "share" / "pactgraph" / "store")
_STAGING = "urn:pactgraph:staging:"
_PENDING = ox.NamedNode(_STAGING + "pending")  # journal: (journal, pending, graph being bulk-written)
BULK_MIN = 20_000
"""Quads from which a batch into empty graphs is bulk-loaded under a journal rather than moved."""
META_SUFFIX = ".pactgraph"
"""An `oxigraph:PATH` store keeps its generation and snapshot in the sibling directory PATH + this."""

log = logging.getLogger("pactgraph.store")


def default_store_url() -> str:
    """The store named by PACTGRAPH_STORE, else the on-disk default under ~/.local/share."""
    return os.environ.get("PACTGRAPH_STORE") or DEFAULT_STORE


@dataclass(frozen=True)
class StoreUrl:
    kind: str  # "memory" | "oxigraph" | "sparql"
    location: str

    @classmethod
    def parse(cls, url: str) -> StoreUrl:
        kind, sep, location = url.partition(":")
        if not sep or kind not in ("memory", "oxigraph", "sparql"):
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"unknown store {url!r}: use memory:, oxigraph:PATH or sparql:QUERY_URL[,UPDATE_URL]",
            )
        if kind == "oxigraph" and not location:
            raise PactgraphError(Kind.BAD_INPUT, "oxigraph: needs a directory, e.g. oxigraph:./store")
        if kind == "sparql" and not location.startswith(("http://", "https://")):
            raise PactgraphError(
                Kind.BAD_INPUT,
                "sparql: needs the server's query URL, e.g. sparql:http://127.0.0.1:7878/query",
            )
        return cls(kind, location)


class Store:
    """A dataset of named graphs, one per source; the default graph is their union."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = StoreUrl.parse(url)
        self.kind = parsed.kind
        self._write_lock = threading.RLock()
        self._version = 0
        self._writes_open = 0  # nested `writing()` blocks; only the outermost one changes the generation
        self._ox: ox.Store | None = None
        self._remote: Endpoint | None = None
        self.path: Path | None = None
        self.meta_dir: Path | None = None
        if parsed.kind == "sparql":
            query_url, _, update_url = parsed.location.partition(",")
            self._remote = Endpoint(query_url, update_url or None)
            self.dataset = Dataset(
                store=SPARQLUpdateStore(query_url, update_url or query_url), default_union=True
            )
            with contextlib.suppress(PactgraphError):  # a server that is down now may be up later
                self._drop_staging()
        elif parsed.kind == "oxigraph":
            path = Path(parsed.location).expanduser()
            path.mkdir(parents=True, exist_ok=True)
            self.path = path
            try:
                self._ox = ox.Store(str(path))
            except OSError as exc:
                if "lock" in str(exc).lower():
                    raise PactgraphError(
                        Kind.BUSY,
                        f"the store at {path} is open in another process (a running `pactgraph serve`?); "
                        "stop it, or send the data to that server's POST /ingest",
                    ) from exc
                raise PactgraphError(Kind.UNAVAILABLE, f"cannot open the store at {path}: {exc}") from exc
            self.dataset = Dataset(store=OxigraphStore(store=self._ox), default_union=True)
            self.meta_dir = _meta_dir(path)
            self._drop_staging()
        else:
            self.dataset = Dataset(default_union=True)

    # ------------------------------------------------------------------ reading

    @property
    def oxigraph(self) -> ox.Store | None:
        """The native Oxigraph handle on the `oxigraph:` backend, for hot paths; None elsewhere."""
        return self._ox

    @property
    def remote(self) -> Endpoint | None:
        """The SPARQL server on the `sparql:` backend; None elsewhere."""
        return self._remote

    @property
    def version(self) -> int:
        """Grows by one on every write made through this object; caches key on it."""
        return self._version

    # ------------------------------------------------------------------ generation

    def generation(self) -> str | None:
        """The durable generation of the store's current content (`oxigraph:` only; None elsewhere,
        and while a write is in progress). A store the last write left without one (a crash, a
        fresh store, a store filled by other tools) gets a new one now: no snapshot has it."""
        if self.meta_dir is None:
            return None
        with self._write_lock:
            if self._writes_open:
                return None
            found = self.read_generation()
            if found is None:
                self._new_generation()
                found = self.read_generation()
            return found

    def read_generation(self) -> str | None:
        """The generation on disk now, without making one (None when there is none)."""
        if self.meta_dir is None or self.path is None:
            return None
        try:
            token = (self.meta_dir / "generation").read_text().strip()
            # RocksDB's IDENTITY is new for each database made: a store deleted and made again at
            # the same path does not inherit the generation left next to it.
            identity = (self.path / "IDENTITY").read_text().strip()
        except OSError:
            return None
        return f"{identity}:{token}" if token and identity else None

    def _invalidate_generation(self) -> None:
        """Remove the generation, durably, before the store is touched; a write that cannot do so
        is refused, since a snapshot of the old content would be trusted after it."""
        if self.meta_dir is None:
            return
        try:
            (self.meta_dir / "generation").unlink(missing_ok=True)
            _fsync_dir(self.meta_dir)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise PactgraphError(
                Kind.UNAVAILABLE, f"cannot mark the store as changing ({self.meta_dir}): {exc}"
            ) from exc

    def _new_generation(self) -> None:
        """Write a new random generation (temp file, fsync, rename); a failure only means no snapshot."""
        if self.meta_dir is None:
            return
        try:
            self.meta_dir.mkdir(exist_ok=True)
            tmp = self.meta_dir / f"generation.{os.getpid()}.tmp"
            with tmp.open("w") as f:
                f.write(uuid.uuid4().hex + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.meta_dir / "generation")
            _fsync_dir(self.meta_dir)
        except OSError as exc:
            log.warning("cannot write the store generation in %s (no snapshot used): %s", self.meta_dir, exc)

    # ------------------------------------------------------------------ reading

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        """Run a SPARQL query on the native engine over the union of graphs.

        `bindings` are values for variables, passed to the engine as bound terms (Oxigraph's
        substitutions, rdflib's initBindings): user input never enters the query string.
        Oxigraph only substitutes variables the query projects, so bound ones must be selected.
        """
        init: dict[str, Identifier] = {k: v for k, v in (bindings or {}).items()}  # type: ignore[misc]
        try:
            return self.dataset.query(sparql, initBindings=init)
        except SyntaxError as exc:
            raise PactgraphError(Kind.BAD_INPUT, f"bad SPARQL query: {exc}") from exc
        except Exception as exc:
            if type(exc).__name__ in ("ParseException", "ParseSyntaxException"):
                raise PactgraphError(Kind.BAD_INPUT, f"bad SPARQL query: {exc}") from exc
            raise

    def select(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> list[dict[str, Node]]:
        """Rows of a SELECT query as dicts of variable name to rdflib term (unbound ones left out)."""
        if self._remote is not None:
            return self._remote.select(with_values(sparql, bindings) if bindings else sparql)[1]
        result = self.query(sparql, bindings)
        names = [str(v) for v in result.vars or []]
        return [
            {name: value for name, value in zip(names, row, strict=False) if value is not None}  # type: ignore[arg-type]
            for row in result
        ]

    def graph_names(self) -> list[URIRef]:
        """Every named graph that holds at least one triple (staging graphs excluded)."""
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(
            (g for r in rows if isinstance(g := r["g"], URIRef) and not str(g).startswith(_STAGING)), key=str
        )

    def graph(self, name: URIRef) -> Graph:
        """A read view of one named graph."""
        return self.dataset.graph(name)

    def count(self, graph: URIRef | None = None) -> int:
        """Triples in one named graph, or quads in the whole dataset."""
        if graph is None:
            rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        else:
            rows = self.select(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", {"g": graph}
            )
        return int(str(rows[0]["n"])) if rows else 0

    def quads(self) -> Iterator[tuple[Node, Node, Node, URIRef]]:
        """Every quad in a named graph (the default graph of the store is not used)."""
        if self._remote is not None:
            for r in self.select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
                if isinstance(r["g"], URIRef) and not str(r["g"]).startswith(_STAGING):
                    yield (r["s"], r["p"], r["o"], r["g"])
            return
        if self._ox is not None:
            for q in self._ox.quads_for_pattern(None, None, None, None):
                if isinstance(q.graph_name, ox.NamedNode):
                    yield (
                        term(q.subject),
                        term(q.predicate),
                        term(q.object),
                        URIRef(q.graph_name.value),
                    )
            return
        for s, p, o, g in self.dataset.quads((None, None, None, None)):
            if isinstance(g, URIRef):
                yield (s, p, o, g)
            elif isinstance(g, Graph) and isinstance(g.identifier, URIRef):
                yield (s, p, o, g.identifier)

    # ------------------------------------------------------------------ writing

    @contextmanager
    def writing(self, bump: bool = True) -> Iterator[None]:
        """Serialize writers in this process and bump the version after each write
        (`bump=False` only waits for writes in progress to finish).

        On `oxigraph:` the outermost write removes the durable generation before it starts and
        writes a new one when it is over, committed or not (an aborted write leaves the store
        as it was, but a new generation is never wrong); a crash in between leaves none."""
        with self._write_lock:
            if not bump:
                yield
                return
            outer = self._writes_open == 0
            if outer:
                self._invalidate_generation()
            self._writes_open += 1
            try:
                yield
            finally:
                self._writes_open -= 1
                self._version += 1
                if outer:
                    self._new_generation()

    def replace_graphs(self, graphs: Mapping[URIRef, Iterable[tuple[Node, Node, Node]]]) -> None:
        """Replace each named graph's content with the given triples, all graphs at once or none.

        On Oxigraph the new triples go into staging graphs first (one transaction), then one
        SPARQL update moves them over the old ones (a second, atomic transaction). A crash in
        between leaves only staging graphs, which the next open drops.
        """
        with self.writing():
            if self._remote is not None:
                self._replace_remote(graphs)
            elif self._ox is not None:
                self._replace_oxigraph(graphs)
            else:
                self._replace_memory(graphs)

    def replace_graphs_native(self, batch: ox.Store, names: Sequence[URIRef]) -> None:
        """Replace each named graph in `names` with the same-named graph of `batch` (an in-memory
        pyoxigraph store), all graphs at once or none. On Oxigraph the quads go from store to store
        without rdflib terms; elsewhere they are converted once."""
        with self.writing():
            if self._ox is not None:
                self._write_oxigraph(batch, names)
                return
            graphs = {
                name: [
                    (term(q.subject), term(q.predicate), term(q.object))
                    for q in batch.quads_for_pattern(None, None, None, ox.NamedNode(str(name)))
                ]
                for name in names
            }
            if self._remote is not None:
                self._replace_remote(graphs)
            else:
                self._replace_memory(graphs)

    def _replace_oxigraph(self, graphs: Mapping[URIRef, Iterable[tuple[Node, Node, Node]]]) -> None:
        # Converted into an in-memory store first, so a triple that cannot be converted (or an
        # iterator that fails half way) raises before the disk store is touched.
        batch = ox.Store()
        for name, triples in graphs.items():
            g = ox.NamedNode(str(name))
            batch.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), g) for s, p, o in triples)  # type: ignore[arg-type]
        self._write_oxigraph(batch, list(graphs))

    def _write_oxigraph(self, batch: ox.Store, names: Sequence[URIRef]) -> None:
        """Two ways to write a batch all or nothing, chosen by what it replaces and its size.

        A batch that replaces graphs holding triples, or a small one, goes into staging graphs
        first, then one SPARQL update moves them over the old ones (one atomic transaction; a
        crash before it leaves only staging graphs, which the next open drops). Oxigraph runs
        that move quad by quad in a transaction (a few thousand quads/s), so a large batch into
        graphs that are all empty is bulk-loaded straight into them under a journal instead: a
        crash before the journal is removed (the commit) makes the next open drop those graphs,
        which held nothing before. Readers of this process may see such a graph filling meanwhile.
        """
        assert self._ox is not None
        native = self._ox
        targets = [ox.NamedNode(str(name)) for name in names]
        size = sum(1 for _ in itertools.islice(batch.quads_for_pattern(None, None, None, None), BULK_MIN))
        empty = all(next(iter(native.quads_for_pattern(None, None, None, g)), None) is None for g in targets)
        if size >= BULK_MIN and empty:
            self._bulk_into_empty(batch, targets)
            return
        token = uuid.uuid4().hex
        staged: list[tuple[ox.NamedNode, ox.NamedNode | None]] = []
        try:
            for i, g in enumerate(targets):
                stage = ox.NamedNode(f"{_STAGING}{token}:{i}")
                quads = (
                    ox.Quad(q.subject, q.predicate, q.object, stage)
                    for q in batch.quads_for_pattern(None, None, None, g)
                )
                first = next(quads, None)
                if first is None:
                    staged.append((g, None))
                    continue
                staged.append((g, stage))
                writer = native.bulk_extend if size >= BULK_MIN else native.extend
                writer(itertools.chain([first], quads))
            ops = [
                f"MOVE SILENT GRAPH {stage} TO GRAPH {g}" if stage else f"DROP SILENT GRAPH {g}"
                for g, stage in staged
            ]
            native.update(" ;\n".join(ops))
        except BaseException:
            self._drop_staging()
            raise

    def _bulk_into_empty(self, batch: ox.Store, targets: list[ox.NamedNode]) -> None:
        assert self._ox is not None
        native = self._ox
        journal = ox.NamedNode(f"{_STAGING}{uuid.uuid4().hex}:journal")
        native.extend(ox.Quad(journal, _PENDING, g, journal) for g in targets)
        try:
            for g in targets:
                native.bulk_extend(batch.quads_for_pattern(None, None, None, g))
            native.remove_graph(journal)  # the commit
        except BaseException:
            self._drop_staging()
            raise

    def _replace_remote(self, graphs: Mapping[URIRef, Iterable[tuple[Node, Node, Node]]]) -> None:
        """Staging graphs filled by INSERT DATA in chunks, then one update that moves them all.

        On a server that runs each update request in one transaction (Oxigraph, Virtuoso) the
        final move is atomic; readers of that server may see staging graphs meanwhile.
        Triples with blank nodes go in one request, so each blank node stays one node.
        """
        assert self._remote is not None
        token = uuid.uuid4().hex
        moves = []
        try:
            for i, (name, triples) in enumerate(graphs.items()):
                stage = f"{_STAGING}{token}:{i}"
                plain: list[str] = []
                blank: list[str] = []
                for t in triples:
                    line = " ".join(safe_term(x).n3() for x in t) + " ."
                    (blank if any(isinstance(x, BNode) for x in t) else plain).append(line)
                for j in range(0, len(plain), 5000):
                    data = "\n".join(plain[j : j + 5000])
                    self._remote.update(f"INSERT DATA {{ GRAPH <{stage}> {{\n{data}\n}} }}")
                if blank:
                    # Some servers (Virtuoso) refuse blank nodes in INSERT DATA; a template
                    # with an empty WHERE makes one fresh node per label, once.
                    data = "\n".join(blank)
                    self._remote.update(f"INSERT {{ GRAPH <{stage}> {{\n{data}\n}} }} WHERE {{}}")
                moves.append(
                    f"MOVE SILENT GRAPH <{stage}> TO GRAPH <{safe_term(name)}>"
                    if plain or blank
                    else f"DROP SILENT GRAPH <{safe_term(name)}>"
                )
            self._remote.update(" ;\n".join(moves))
        except BaseException:
            with contextlib.suppress(Exception):
                self._drop_staging()
            raise

    def _replace_memory(self, graphs: Mapping[URIRef, Iterable[tuple[Node, Node, Node]]]) -> None:
        # Build every new graph before touching the dataset, so a bad triple changes nothing.
        built = {name: list(triples) for name, triples in graphs.items()}
        for name, triples in built.items():
            self.dataset.remove_graph(name)
            g = self.dataset.graph(name)
            for t in triples:
                g.add(t)

    def update(self, sparql_update: str) -> None:
        """Run a SPARQL 1.1 Update on the native engine, in one transaction where the backend has them."""
        with self.writing():
            try:
                if self._remote is not None:
                    self._remote.update(sparql_update)
                elif self._ox is not None:
                    self._ox.update(sparql_update)
                else:
                    self.dataset.update(sparql_update)
            except SyntaxError as exc:
                raise PactgraphError(Kind.BAD_INPUT, f"bad SPARQL update: {exc}") from exc
            except (RuntimeError, ValueError) as exc:  # the engine refused it (e.g. DROP of a missing graph)
                raise PactgraphError(
                    Kind.BAD_INPUT, f"the update was refused and nothing was changed: {exc}"
                ) from exc

    def drop_graph(self, name: URIRef) -> None:
        with self.writing():
            if self._remote is not None:
                self._remote.update(f"DROP SILENT GRAPH <{safe_term(name)}>")
            elif self._ox is not None:
                self._ox.remove_graph(ox.NamedNode(str(name)))
            else:
                self.dataset.remove_graph(name)

    def _drop_staging(self) -> None:
        if self._remote is not None:
            rows = self.select(
                "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                f'FILTER(STRSTARTS(STR(?g), "{_STAGING}")) }}'
            )
            drops = [f"DROP SILENT GRAPH <{safe_term(r['g'])}>" for r in rows]
            if drops:
                self._remote.update(" ;\n".join(drops))
            return
        assert self._ox is not None
        native = self._ox
        for g in list(native.named_graphs()):
            if isinstance(g, ox.NamedNode) and g.value.startswith(_STAGING):
                self._invalidate_generation()  # a write left unfinished: its crash left none already
                # A journal names graphs a bulk write left unfinished: they were empty before it.
                for q in list(native.quads_for_pattern(None, _PENDING, None, g)):
                    if isinstance(q.object, ox.NamedNode):
                        native.remove_graph(q.object)
                native.remove_graph(g)

    def flush(self) -> None:
        if self._ox is not None:
            self._ox.flush()

    def close(self) -> None:
        """Release the backend (the on-disk lock goes with the last reference to it)."""
        if self._ox is not None:
            self._ox.flush()
        if self._remote is not None:
            self._remote.close()
        self.dataset = Dataset()
        self._ox = None
        self._remote = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _meta_dir(path: Path) -> Path | None:
    """PATH.pactgraph beside the store directory (RocksDB owns the directory itself)."""
    full = path.resolve()
    return full.with_name(full.name + META_SUFFIX) if full.name else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_UNSAFE_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`]')


def writable_iri(node: Node) -> bool:
    """True for an IRI with no character that could close it and open new SPARQL syntax."""
    return isinstance(node, URIRef) and not _UNSAFE_IRI.search(node)


def safe_term(node: Node) -> Node:
    """A term that can be written into a SPARQL string: IRIs with characters that could close
    the IRI and open new syntax are refused (literals are escaped by their n3 form)."""
    if isinstance(node, URIRef) and not writable_iri(node):
        raise PactgraphError(Kind.BAD_INPUT, f"not a valid IRI: {str(node)[:80]!r}")
    return node


def with_values(sparql: str, bindings: Mapping[str, Node]) -> str:
    """Bind variables by a trailing VALUES clause of serialized terms (for servers without
    Oxigraph's substitutions); as with Oxigraph, the bound variables must be projected."""
    names = " ".join(f"?{k}" for k in bindings)
    values = " ".join(safe_term(v).n3() for v in bindings.values())
    return f"{sparql}\nVALUES ({names}) {{ ({values}) }}"


def term(value: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    """An Oxigraph term as an rdflib term (quoted triples are not used by pactgraph)."""
    node = from_ox(value)
    if node is None or isinstance(node, tuple):
        raise PactgraphError(Kind.BAD_INPUT, "RDF-star quoted triples are not supported")
    return node


def open_store(url: str | None = None) -> Store:
    """Open the store named by `url`, PACTGRAPH_STORE, or the on-disk default."""
    return Store(url or default_store_url())

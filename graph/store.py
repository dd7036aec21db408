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

What a query sees follows SPARQL 1.1 (DESIGN.md): without FROM / FROM NAMED, the default graph is
the RDF merge, a set, of every named graph and the store's own default graph. Oxigraph's union
default graph is a bag (a triple in two graphs is matched twice), so the merge is materialised:

- the store's own default graph (Graph Store `?default`, updates without GRAPH) is kept in the
  named graph DEFAULT_GRAPH, which `GRAPH ?g` never shows;
- on `oxigraph:`, Oxigraph's default graph holds the merge; on `sparql:`, the named graph
  MERGE_GRAPH does, and queries name it as their default graph (the protocol's
  default-graph-uri), since servers differ in what their own default graph is.

Every write keeps the merge in step in the same transaction as the write itself (`apply`): the
added triples join it, and a removed triple leaves it when no data graph holds it any more. A
store whose merge is missing (filled by other tools, or by an older pactgraph) gets it on open.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import itertools
import logging
import os
import re
import shutil
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib.plugins.sparql
from oxrdflib import OxigraphStore
from oxrdflib._converter import from_ox, to_ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore
from rdflib.query import Result
from rdflib.term import Identifier, Node

from pactgraph.graph import deadline
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.remote import Endpoint
from pactgraph.ontology import ONTOLOGY_GRAPH

# rdflib would fetch FROM/FROM NAMED graphs from the web; a query never reaches the network.
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False

DEFAULT_STORE = "oxigraph:" + str(Path.home() / ".local" / "share" / "pactgraph" / "store")
INTERNAL = "urn:pactgraph:"
"""Graphs under this prefix are pactgraph's bookkeeping (staging, the merge), never data;
DEFAULT_GRAPH is the one exception."""
DEFAULT_GRAPH = URIRef(INTERNAL + "default")
"""The named graph that holds the store's own default graph (Graph Store `?default`, updates
without GRAPH); queries see it as part of the default graph, never under `GRAPH ?g`."""
MERGE_GRAPH = URIRef(INTERNAL + "merge")
"""On a `sparql:` server, the graph that holds the merge (the default graph of every query)."""
_STAGING = INTERNAL + "staging:"
_OX_DEFAULT = ox.NamedNode(str(DEFAULT_GRAPH))
_PENDING = ox.NamedNode(_STAGING + "pending")  # journal: (journal, pending, graph being bulk-written)
_MERGE_JOURNAL = ox.NamedNode(_STAGING + "merge")  # present while the merge is being built
BULK_MIN = 20_000
"""Quads from which a batch into empty graphs is bulk-loaded under a journal rather than moved."""
META_SUFFIX = ".pactgraph"
"""An `oxigraph:PATH` store keeps its generation and snapshot in the sibling directory PATH + this."""

log = logging.getLogger("pactgraph.store")


def default_store_url() -> str:
    """The store named by PACTGRAPH_STORE, else the on-disk default under ~/.local/share."""
    return os.environ.get("PACTGRAPH_STORE") or DEFAULT_STORE


def data_graph(name: str) -> bool:
    """Whether a graph holds data (a source's graph, or the store's own default graph) rather than
    pactgraph's bookkeeping (staging graphs of a write, the merge)."""
    return name == str(DEFAULT_GRAPH) or not name.startswith((INTERNAL, "urn:x-pactgraph:"))


def visible_graph(name: str) -> bool:
    """Whether a graph is one of the named graphs a query sees under `GRAPH ?g`."""
    return data_graph(name) and name != str(DEFAULT_GRAPH)


def reserved_graph(name: str) -> str | None:
    """Why a client's write cannot name this graph (None: it can). pactgraph's own graphs (staging
    graphs and journals of writes, the merge, the store's default graph by its inner name: a
    client says `?default` or leaves GRAPH out) hold bookkeeping that a start trusts; the ontology
    graph is written from the package at every start."""
    if name.startswith((INTERNAL, "urn:x-pactgraph:")):
        return "is reserved for pactgraph's own bookkeeping (staging, journals, the merge, the default graph)"
    if name == str(ONTOLOGY_GRAPH):
        return "is the ontology: reserved, and written from pactgraph's package at every start"
    return None


def refuse_reserved(names: Iterable[str], *, default: bool = False) -> None:
    """Refuse (400, the graph named) a client write that names a reserved graph; `default`: the
    write path itself put DEFAULT_GRAPH for the client's default graph, which it may write."""
    for name in sorted(set(names)):
        why = reserved_graph(name)
        if why is not None and not (default and name == str(DEFAULT_GRAPH)):
            raise PactgraphError(Kind.BAD_INPUT, f"the graph <{name}> {why}: a write cannot name it")


def _refuse_bookkeeping(graphs: Iterable[ox.NamedNode]) -> None:
    """The last line, on every write through the store (client or not, bulk or not): nothing is
    ever written into a staging graph, a journal or the merge but by the store itself."""
    for g in graphs:
        if not data_graph(g.value):
            raise PactgraphError(
                Kind.BAD_INPUT, f"the graph <{g.value}> is one of pactgraph's own graphs: not writable"
            )


@dataclass
class Delta:
    """A change to the store's data graphs, made whole or not at all by `Store.apply`: the quads
    added (an in-memory pyoxigraph store, one graph per target graph), the quads removed, the
    graphs emptied first (their old content goes; what `added` holds for them is their new one).
    The store's own default graph is the named graph DEFAULT_GRAPH here, like any other."""

    added: ox.Store = field(default_factory=ox.Store)
    removed: set[ox.Quad] = field(default_factory=set)
    dropped: set[ox.NamedNode] = field(default_factory=set)
    # DROP/CLEAR ALL or NAMED: the client emptied every graph, so the ontology graph may go too
    # (the standard's meaning, which SPARQL test suites rely on; it is written again at the next start)
    every_graph: bool = False

    def empty(self) -> bool:
        return not (
            self.dropped
            or self.removed
            or next(iter(self.added.quads_for_pattern(None, None, None, None)), None) is not None
        )

    def graphs(self) -> set[ox.NamedNode]:
        """Every graph the change touches."""
        touched = {q.graph_name for q in self.added.quads_for_pattern(None, None, None, None)}
        touched |= {q.graph_name for q in self.removed}
        return {g for g in touched if isinstance(g, ox.NamedNode)} | self.dropped


CHANGE_LIMIT = 200_000
"""Quads past which a write tells its followers only that everything may have changed."""


@dataclass(frozen=True)
class Change:
    """What one write changed in the data graphs, told to the store's followers (`Store.follow`)
    once it is made: the quads it added, and those it took away (a replaced graph's old quads
    that its new content does not hold again). `everything`: too many to list (over
    CHANGE_LIMIT), DROP ALL, or not known (a write that failed half way): read the store again."""

    version: int
    added: tuple[ox.Quad, ...] = ()
    removed: tuple[ox.Quad, ...] = ()
    everything: bool = False


class NeedsRebuild(Exception):
    """Raised by a follower's update when a change cannot be followed node by node (the ontology
    or the class hierarchy changed, or `Change.everything`): what it keeps must be built again."""


class _Changes:
    """The quads the writes of one outer `writing()` block added and took away."""

    def __init__(self) -> None:
        self.added: dict[ox.Quad, None] = {}  # ordered sets
        self.removed: dict[ox.Quad, None] = {}
        self.everything = False

    def change(self, version: int, failed: bool) -> Change:
        if self.everything or (failed and (self.added or self.removed)):
            return Change(version, everything=True)
        return Change(version, tuple(self.added), tuple(self.removed))


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


_SPO = "?s ?p ?o"
_CHUNK = 2000  # triples per INSERT DATA to a sparql: server (Virtuoso's parser runs out of memory at 5,000)
_GRAPH_KEYWORD = re.compile(r"(?<![\w:?$])GRAPH(?![\w:-])", re.I)


class Store:
    """A dataset of named graphs, one per source, and a default graph of its own; queries see
    the merge of all of them as their default graph (see the module's docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = StoreUrl.parse(url)
        self.kind = parsed.kind
        self._write_lock = threading.RLock()
        self._version = 0
        self._writes_open = 0  # nested `writing()` blocks; only the outermost one changes the generation
        self._ox: ox.Store | None = None
        self._remote: Endpoint | None = None
        self._visible: tuple[int, list[ox.NamedNode]] | None = None
        self._followers: list[Callable[[Change], None]] = []
        self._changes: _Changes | None = None  # what the write in progress changed, for followers
        self.no_space: str | None = None
        """Set while the last write failed for want of disk space (what happened), until a write,
        or `check_space`, succeeds."""
        self._reopen = False  # the engine refuses writes after a failed one: open it again
        self._free_after = 0  # bytes free right after a write found the disk full
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
                self._ensure_merge_remote()
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
            # Oxigraph's own default graph is the merge: rdflib's view of the dataset reads it as is.
            self.dataset = Dataset(store=OxigraphStore(store=self._ox), default_union=False)
            self.meta_dir = _meta_dir(path)
            self._remove_orphans()
            self._drop_staging()
            self._ensure_merge()
        else:
            # rdflib's union of contexts is a set already, and includes its own default graph.
            self.dataset = Dataset(default_union=True)

    # ------------------------------------------------------------------ reading

    @property
    def oxigraph(self) -> ox.Store | None:
        """The native Oxigraph handle on the `oxigraph:` backend, for hot paths; None elsewhere.
        Its default graph is the merge of every data graph: query it without
        `use_default_graph_as_union` (which would match each triple once per graph, and the merge too)."""
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

    # ------------------------------------------------------------------ the default graph

    def query_dataset(self) -> dict[str, Any]:
        """pyoxigraph's dataset arguments for a query that names no dataset itself: the default
        graph is Oxigraph's own (the merge); the named graphs are all but the store's own default
        graph, which is listed away only while it holds something."""
        native = self._ox
        if native is None or not native.contains_named_graph(_OX_DEFAULT):
            return {}
        return {"named_graphs": self.visible_graphs()}

    def visible_graphs(self) -> list[ox.NamedNode]:
        """The named graphs `GRAPH ?g` may match (cached for this version of the store)."""
        cached = self._visible
        if cached is not None and cached[0] == self._version:
            return cached[1]
        if self._ox is not None:
            names = [
                g for g in self._ox.named_graphs() if isinstance(g, ox.NamedNode) and visible_graph(g.value)
            ]
        else:
            assert self._remote is not None
            rows = self._remote.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")[1]
            names = [
                ox.NamedNode(str(r["g"]))
                for r in rows
                if isinstance(r.get("g"), URIRef) and visible_graph(str(r["g"]))
            ]
        self._visible = (self._version, names)
        return names

    def remote_dataset(self, query: str) -> tuple[list[str], list[str]]:
        """On `sparql:`, the protocol's default-graph-uri and named-graph-uri for a query that names
        no dataset itself: the merge as default graph, and (when the query has GRAPH patterns) the
        data graphs as named graphs."""
        named = [g.value for g in self.visible_graphs()] if _GRAPH_KEYWORD.search(query) else []
        return [str(MERGE_GRAPH)], named

    def _ensure_merge(self) -> None:
        """Build the merge in Oxigraph's default graph when the store has data but no merge (a
        store filled by other tools or by an older pactgraph): once, at open."""
        native = self._ox
        assert native is not None
        if next(iter(native.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
            return
        graphs = [g for g in native.named_graphs() if isinstance(g, ox.NamedNode) and data_graph(g.value)]
        if not any(next(iter(native.quads_for_pattern(None, None, None, g)), None) for g in graphs):
            return
        log.info("building the default graph (the merge of every graph) of %s", self.path)
        with self.writing():
            # Under a journal: a crash half way makes the next open empty the default graph and
            # build it again (an incomplete merge would look like a finished one).
            native.add(ox.Quad(_MERGE_JOURNAL, _PENDING, _MERGE_JOURNAL, _MERGE_JOURNAL))
            default = ox.DefaultGraph()
            native.bulk_extend(
                ox.Quad(q.subject, q.predicate, q.object, default)
                for g in graphs
                for q in native.quads_for_pattern(None, None, None, g)
            )
            native.remove_graph(_MERGE_JOURNAL)

    def _ensure_merge_remote(self) -> None:
        remote = self._remote
        assert remote is not None
        merge = f"<{MERGE_GRAPH}>"
        has_merge = remote.select(f"SELECT ?s WHERE {{ GRAPH {merge} {{ ?s ?p ?o }} }} LIMIT 1")[1]
        if has_merge:
            return
        has_data = remote.select(
            f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_data_filter('?g')} }} LIMIT 1"
        )[1]
        if has_data:
            remote.update(
                f"INSERT {{ GRAPH {merge} {{ {_SPO} }} }} "
                f"WHERE {{ GRAPH ?g {{ {_SPO} }} {_data_filter('?g')} }}"
            )

    # ------------------------------------------------------------------ reading

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        """Run a SPARQL query through rdflib on the native engine, over the merge of all graphs.

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
        """Rows of a SELECT query as dicts of variable name to rdflib term (unbound ones left out).

        The default graph is the merge of every graph; the named graphs are the data graphs
        (`visible_graph`), as for a user's query."""
        if self._remote is not None:
            text = with_values(sparql, bindings) if bindings else sparql
            return self._remote.select(text, *self.remote_dataset(text))[1]
        if self._ox is not None:
            subs = {ox.Variable(k): to_ox(v) for k, v in (bindings or {}).items()}
            try:
                solutions = self._ox.query(sparql, substitutions=subs or None, **self.query_dataset())  # type: ignore[arg-type]
            except SyntaxError as exc:
                raise PactgraphError(Kind.BAD_INPUT, f"bad SPARQL query: {exc}") from exc
            if not isinstance(solutions, ox.QuerySolutions):
                raise PactgraphError(Kind.BAD_INPUT, "select() takes a SELECT query")
            variables = [v.value for v in solutions.variables]
            return [
                {name: term(value) for name, value in zip(variables, row, strict=False) if value is not None}
                for row in solutions
            ]
        result = self.query(sparql, bindings)
        names = [str(v) for v in result.vars or []]
        return [
            {name: value for name, value in zip(names, row, strict=False) if value is not None}  # type: ignore[arg-type]
            for row in result
        ]

    def graph_names(self) -> list[URIRef]:
        """Every named graph that holds at least one triple (pactgraph's own graphs excluded, the
        store's default graph too)."""
        native = self._ox
        if native is not None:
            return sorted(
                (
                    URIRef(g.value)
                    for g in native.named_graphs()
                    if isinstance(g, ox.NamedNode)
                    and visible_graph(g.value)
                    and next(iter(native.quads_for_pattern(None, None, None, g)), None) is not None
                ),
                key=str,
            )
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted((g for r in rows if isinstance(g := r["g"], URIRef) and visible_graph(str(g))), key=str)

    def has_default_graph(self) -> bool:
        """Whether the store's own default graph holds anything."""
        return self.count(DEFAULT_GRAPH) > 0

    def graph(self, name: URIRef) -> Graph:
        """One graph's triples, read now (DEFAULT_GRAPH: the store's own default graph)."""
        if self._ox is None and self._remote is None:
            return self._memory_graph(name)
        copy = Graph(identifier=name)
        for q in self.match(graph=ox.NamedNode(str(name))):
            copy.add((term(q.subject), term(q.predicate), _plain(q.object)))
        return copy

    def _memory_graph(self, name: URIRef) -> Graph:
        """On `memory:`, the dataset's own graph (a live view)."""
        return self.dataset.default_graph if name == DEFAULT_GRAPH else self.dataset.graph(name)

    def count(self, graph: URIRef | None = None) -> int:
        """Triples in one graph (DEFAULT_GRAPH: the store's own default graph), or quads in every
        data graph."""
        if graph is not None:
            g = ox.NamedNode(str(graph))
            return sum(1 for _ in self.match(graph=g))
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_data_filter('?g')} }}"
        if self._ox is not None:
            solutions = self._ox.query(query)  # every named graph: the default graph of its own too
            assert isinstance(solutions, ox.QuerySolutions)
            count = next(iter(solutions))[0]
            return int(count.value) if isinstance(count, ox.Literal) else 0
        if self._remote is not None:
            rows = self._remote.select(query)[1]
            return int(str(rows[0]["n"])) if rows else 0
        return sum(1 for _ in self.dataset.quads((None, None, None, None)))

    def quads(self) -> Iterator[tuple[Node, Node, Node, URIRef]]:
        """Every quad of every data graph (the store's own default graph as DEFAULT_GRAPH)."""
        if self._remote is not None:
            for r in self.select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
                if isinstance(r["g"], URIRef) and data_graph(str(r["g"])):
                    yield (r["s"], r["p"], r["o"], r["g"])
            return
        if self._ox is not None:
            for q in self._ox.quads_for_pattern(None, None, None, None):
                if isinstance(q.graph_name, ox.NamedNode) and data_graph(q.graph_name.value):
                    yield (
                        term(q.subject),
                        term(q.predicate),
                        term(q.object),
                        URIRef(q.graph_name.value),
                    )
            return
        for s, p, o, g in self.dataset.quads((None, None, None, None)):
            name = g.identifier if isinstance(g, Graph) else g
            if name == DATASET_DEFAULT:
                yield (s, p, o, DEFAULT_GRAPH)
            elif isinstance(name, URIRef):
                yield (s, p, o, name)

    # ------------------------------------------------------------------ reading, in pyoxigraph terms
    # What a write reads of the store as it is (graph/update.py, graph/writes.py): quads by pattern
    # over the data graphs, as pyoxigraph terms, on every backend.

    def match(
        self,
        subject: ox.NamedNode | ox.BlankNode | None = None,
        predicate: ox.NamedNode | None = None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None = None,
        graph: ox.NamedNode | None = None,
    ) -> Iterator[ox.Quad]:
        """The quads of the data graphs that match a pattern (None matches anything)."""
        if self._ox is not None:
            for q in self._ox.quads_for_pattern(subject, predicate, obj, graph):
                if isinstance(q.graph_name, ox.NamedNode) and data_graph(q.graph_name.value):
                    yield q
            return
        if self._remote is not None:
            yield from self._match_remote(subject, predicate, obj, graph)
            return
        pattern = tuple(None if t is None else _plain(t) for t in (subject, predicate, obj))
        if graph is not None:
            context = self._memory_graph(URIRef(graph.value))
            for s, p, o in context.triples(pattern):  # type: ignore[arg-type]
                yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph)  # type: ignore[arg-type]
            return
        for s, p, o, g in self.dataset.quads(pattern):  # type: ignore[arg-type]
            name = g.identifier if isinstance(g, Graph) else g
            name = DEFAULT_GRAPH if name == DATASET_DEFAULT else name
            if isinstance(name, URIRef):
                yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(name)))  # type: ignore[arg-type]

    def _match_remote(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None,
        graph: ox.NamedNode | None,
    ) -> Iterator[ox.Quad]:
        assert self._remote is not None
        if any(isinstance(t, ox.BlankNode) for t in (subject, obj)):
            raise PactgraphError(
                Kind.BAD_INPUT,
                "on the sparql: backend a blank node of the server cannot be named in a request; "
                "give the node an IRI",
            )
        parts = [
            str(t) if t is not None else f"?{v}" for t, v in ((subject, "s"), (predicate, "p"), (obj, "o"))
        ]
        where = f"GRAPH {graph if graph is not None else '?g'} {{ {' '.join(parts)} }}"
        rows = self._remote.select(f"SELECT * WHERE {{ {where} }}")[1]
        for r in rows:
            g = graph if graph is not None else ox.NamedNode(str(r["g"]))
            if not data_graph(g.value):
                continue
            s, p, o = (
                to_ox(r[v]) if t is None else t for t, v in ((subject, "s"), (predicate, "p"), (obj, "o"))
            )
            yield ox.Quad(s, p, o, g)  # type: ignore[arg-type]

    def contains(self, quad: ox.Quad) -> bool:
        """Whether a data graph holds the quad."""
        return next(self.match(quad.subject, quad.predicate, quad.object, quad.graph_name), None) is not None  # type: ignore[arg-type]

    # ------------------------------------------------------------------ writing

    @contextmanager
    def writing(self, bump: bool = True) -> Iterator[None]:
        """Serialize writers in this process and bump the version after each write
        (`bump=False` only waits for writes in progress to finish).

        On `oxigraph:` the outermost write removes the durable generation before it starts and
        writes a new one when it is over, committed or not (an aborted write leaves the store
        as it was, but a new generation is never wrong); a crash in between leaves none.

        Under a request's deadline (graph/deadline.py) the wait for another write gives up at
        the deadline, and the deadline is checked once more here, the write's commit point:
        past it the write is made whatever the time, so a write answered 503 never lands."""
        with deadline.holding(self._write_lock):
            if not bump:
                yield
                return
            outer = self._writes_open == 0
            if outer:
                deadline.check()  # the commit point: nothing of the write is made yet
                self._recover()  # a write that found the disk full left the engine refusing writes
                self._invalidate_generation()
                self._changes = _Changes() if self._followers else None
            self._writes_open += 1
            failed = False
            try:
                yield
                if outer:
                    self.no_space = None
            except BaseException as exc:
                failed = True
                if outer and self._ox is not None:
                    self._remove_orphans()
                    if _no_space(exc):
                        _forget(exc)
                        raise self._full(exc) from None
                raise
            finally:
                self._writes_open -= 1
                self._version += 1
                if outer:
                    self._new_generation()
                    self._tell(failed)

    def follow(self, listener: Callable[[Change], None]) -> None:
        """Call `listener` with what each write through this object changed, once it is made and
        before the write returns (still holding the write lock: writes are told in order)."""
        with self._write_lock:
            self._followers.append(listener)

    def unfollow(self, listener: Callable[[Change], None]) -> None:
        """Stop calling `listener` (a server shutting down over a store that stays open)."""
        with self._write_lock:
            if listener in self._followers:
                self._followers.remove(listener)

    def _tell(self, failed: bool) -> None:
        changes, self._changes = self._changes, None
        if changes is None:
            return
        change = changes.change(self._version, failed)
        for listener in self._followers:
            try:
                listener(change)
            except Exception:  # a follower's failure is its own, never the write's
                log.exception("a follower of the store failed on version %d", change.version)

    def _note(self, delta: Delta) -> None:
        """Record, before it is made, what a change will add and take away (for followers)."""
        changes = self._changes
        if changes is None or changes.everything:
            return
        everything = delta.added.quads_for_pattern(None, None, None, None)
        added = list(itertools.islice(everything, CHANGE_LIMIT + 1))
        old: list[ox.Quad] = []
        for g in sorted(delta.dropped, key=str):
            old.extend(itertools.islice(self.match(graph=g), CHANGE_LIMIT + 1 - len(old)))
        listed = len(changes.added) + len(changes.removed)
        if len(added) + len(old) + len(delta.removed) + listed > CHANGE_LIMIT:
            changes.everything = True
            return
        new = set(added)
        gone = set(old) | delta.removed
        for q in added:
            if q not in gone:
                changes.added[q] = None
                changes.removed.pop(q, None)
        for q in gone:
            if q not in new:
                changes.removed[q] = None
                changes.added.pop(q, None)

    def replace_graphs(self, graphs: Mapping[URIRef, Iterable[tuple[Node, Node, Node]]]) -> None:
        """Replace each named graph's content with the given triples, all graphs at once or none.

        The triples are converted into an in-memory store first, so a triple that cannot be
        converted (or an iterator that fails half way) raises before the store is touched."""
        batch = ox.Store()
        for name, triples in graphs.items():
            g = ox.NamedNode(str(name))
            batch.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), g) for s, p, o in triples)  # type: ignore[arg-type]
        self.replace_graphs_native(batch, list(graphs))

    def replace_graphs_native(self, batch: ox.Store, names: Sequence[URIRef]) -> None:
        """Replace each graph in `names` with the same-named graph of `batch` (an in-memory
        pyoxigraph store), all graphs at once or none (unvalidated: graph/writes.py validates)."""
        targets = {ox.NamedNode(str(name)) for name in names}
        graphs = {q.graph_name for q in batch.quads_for_pattern(None, None, None, None)}
        _refuse_bookkeeping(targets | {g for g in graphs if isinstance(g, ox.NamedNode)})
        with self.writing():
            self._note(Delta(added=batch, dropped=targets))
            if self._ox is not None and self._bulk_fits(batch, targets):
                self._bulk_into_empty(batch, sorted(targets, key=str))
                return
            self._apply(Delta(added=batch, dropped=targets))

    def apply(self, delta: Delta) -> None:
        """Make a change whole or not at all, and keep the merge (the default graph queries see)
        in step in the same transaction (unvalidated: graph/writes.py validates)."""
        if delta.empty():
            return
        with self.writing():
            self._note(delta)
            self._apply(delta)

    def _apply(self, delta: Delta) -> None:
        _refuse_bookkeeping(delta.graphs())
        if self._remote is not None:
            self._apply_remote(delta)
        elif self._ox is not None:
            self._apply_oxigraph(delta)
        else:
            self._apply_memory(delta)

    def _bulk_fits(self, batch: ox.Store, targets: set[ox.NamedNode]) -> bool:
        """A large batch into graphs that are all empty is bulk-loaded (see `_bulk_into_empty`)."""
        assert self._ox is not None
        size = sum(1 for _ in itertools.islice(batch.quads_for_pattern(None, None, None, None), BULK_MIN))
        native = self._ox
        return size >= BULK_MIN and all(
            next(iter(native.quads_for_pattern(None, None, None, g)), None) is None for g in targets
        )

    def _apply_oxigraph(self, delta: Delta) -> None:
        """Stage the change (added quads, removed quads) in staging graphs, then one SPARQL update
        makes it and moves the merge along: one atomic transaction. A crash before it leaves only
        staging graphs, which the next open drops."""
        native = self._ox
        assert native is not None
        token = uuid.uuid4().hex
        try:
            added, removed = self._stage(delta, token, native.extend, native.bulk_extend)
            ops = _delta_ops(added, removed, delta.dropped, merge=None)
            if ops:
                native.update(" ;\n".join(ops))
        except BaseException:
            self._drop_staging()
            raise
        if (
            native.contains_named_graph(_OX_DEFAULT)
            and next(iter(native.quads_for_pattern(None, None, None, _OX_DEFAULT)), None) is None
        ):
            native.remove_graph(_OX_DEFAULT)  # no default graph of its own: GRAPH ?g needs no list

    def _stage(
        self,
        delta: Delta,
        token: str,
        extend: Any,
        bulk_extend: Any,
    ) -> tuple[dict[ox.NamedNode, ox.NamedNode], dict[ox.NamedNode, ox.NamedNode]]:
        """Write the added and the removed quads into staging graphs, one per target graph."""
        added: dict[ox.NamedNode, ox.NamedNode] = {}
        removed: dict[ox.NamedNode, ox.NamedNode] = {}
        size = sum(
            1 for _ in itertools.islice(delta.added.quads_for_pattern(None, None, None, None), BULK_MIN)
        )
        writer = bulk_extend if size >= BULK_MIN else extend
        for i, g in enumerate(sorted(delta.graphs(), key=str)):
            quads = delta.added.quads_for_pattern(None, None, None, g)
            first = next(quads, None)
            if first is not None:
                stage = ox.NamedNode(f"{_STAGING}{token}:a{i}")
                writer(
                    ox.Quad(q.subject, q.predicate, q.object, stage) for q in itertools.chain([first], quads)
                )
                added[g] = stage
            gone = [q for q in delta.removed if q.graph_name == g and g not in delta.dropped]
            if gone:
                stage = ox.NamedNode(f"{_STAGING}{token}:r{i}")
                extend(ox.Quad(q.subject, q.predicate, q.object, stage) for q in gone)
                removed[g] = stage
        return added, removed

    def _bulk_into_empty(self, batch: ox.Store, targets: list[ox.NamedNode]) -> None:
        """Oxigraph runs a transactional write quad by quad; a large batch into graphs that are
        all empty is bulk-loaded straight into them (and into the merge) under a journal instead:
        a crash before the journal is removed (the commit) makes the next open drop those graphs,
        which held nothing before, and take their triples out of the merge again. Readers of this
        process may see such a graph filling meanwhile."""
        assert self._ox is not None
        native = self._ox
        journal = ox.NamedNode(f"{_STAGING}{uuid.uuid4().hex}:journal")
        native.extend(ox.Quad(journal, _PENDING, g, journal) for g in targets)
        try:
            default = ox.DefaultGraph()
            if not _has_blank_nodes(batch):
                # Each graph serialized once by the engine and loaded twice (the graph, the merge) by
                # its own parser: no Python object per quad. (The loader names blank nodes anew,
                # so a batch with some takes the way below, which keeps them one node.)
                for g in targets:
                    data = batch.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) or b""
                    native.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=g)
                    native.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=default)
            else:
                for g in targets:
                    native.bulk_extend(batch.quads_for_pattern(None, None, None, g))
                native.bulk_extend(
                    ox.Quad(q.subject, q.predicate, q.object, default)
                    for g in targets
                    for q in batch.quads_for_pattern(None, None, None, g)
                )
            native.remove_graph(journal)  # the commit
        except BaseException:
            self._drop_staging()
            raise

    def _apply_remote(self, delta: Delta) -> None:
        """Staging graphs filled by INSERT DATA in chunks, then one update that makes the change
        and moves the merge graph along.

        On a server that runs each update request in one transaction (Oxigraph, Virtuoso) the
        final update is atomic; readers of that server may see staging graphs meanwhile.
        Triples with blank nodes go in one request, so each blank node stays one node; a blank
        node of the server itself cannot be named over the protocol, so removing one is refused.
        """
        remote = self._remote
        assert remote is not None
        if any(isinstance(t, ox.BlankNode) for q in delta.removed for t in (q.subject, q.object)):
            raise PactgraphError(
                Kind.BAD_INPUT,
                "on the sparql: backend a triple with a blank node of the server cannot be removed "
                "(the protocol has no name for it); replace its graph instead",
            )
        token = uuid.uuid4().hex
        staged: dict[str, list[ox.Quad]] = {}
        added: dict[ox.NamedNode, ox.NamedNode] = {}
        removed: dict[ox.NamedNode, ox.NamedNode] = {}
        for i, g in enumerate(sorted(delta.graphs(), key=str)):
            quads = list(delta.added.quads_for_pattern(None, None, None, g))
            if quads:
                added[g] = ox.NamedNode(f"{_STAGING}{token}:a{i}")
                staged[added[g].value] = quads
            gone = [q for q in delta.removed if q.graph_name == g and g not in delta.dropped]
            if gone:
                removed[g] = ox.NamedNode(f"{_STAGING}{token}:r{i}")
                staged[removed[g].value] = gone
        try:
            for stage, quads in staged.items():
                self._insert_remote(stage, quads)
            ops = _delta_ops(added, removed, delta.dropped, merge=f"<{MERGE_GRAPH}>")
            if ops:
                remote.update(" ;\n".join(ops))
        except BaseException:
            with contextlib.suppress(Exception):
                self._drop_staging()
            raise

    def _insert_remote(self, stage: str, quads: list[ox.Quad]) -> None:
        assert self._remote is not None
        plain: list[str] = []
        blank: list[str] = []
        for q in quads:
            line = " ".join(safe_term(term(x)).n3() for x in (q.subject, q.predicate, q.object)) + " ."
            (
                blank if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) else plain
            ).append(line)
        for j in range(0, len(plain), _CHUNK):
            data = "\n".join(plain[j : j + _CHUNK])
            self._remote.update(f"INSERT DATA {{ GRAPH <{stage}> {{\n{data}\n}} }}")
        if blank:
            # Some servers (Virtuoso) refuse blank nodes in INSERT DATA; a template with an empty
            # WHERE makes one fresh node per label, once.
            data = "\n".join(blank)
            self._remote.update(f"INSERT {{ GRAPH <{stage}> {{\n{data}\n}} }} WHERE {{}}")

    def _apply_memory(self, delta: Delta) -> None:
        # Every term converted before the dataset is touched, so a bad one changes nothing.
        added = [_memory_quad(q) for q in delta.added]
        removed = [_memory_quad(q) for q in delta.removed]
        ds = self.dataset
        for g in delta.dropped:
            if g.value == str(DEFAULT_GRAPH):
                ds.default_graph.remove((None, None, None))
            else:
                ds.remove_graph(URIRef(g.value))
        for s, p, o, name in removed:
            self._memory_graph(URIRef(name)).remove((s, p, o))
        for s, p, o, name in added:
            self._memory_graph(URIRef(name)).add((s, p, o))

    def update(self, sparql_update: str) -> None:
        """Run a SPARQL 1.1 Update, unvalidated, as one change (graph/writes.py validates)."""
        from pactgraph.graph.update import evaluate  # the update reads the store: a layer above it

        self.apply(evaluate(self, sparql_update))

    def drop_graph(self, name: URIRef) -> None:
        self.apply(Delta(dropped={ox.NamedNode(str(name))}))

    def _drop_staging(self) -> None:
        """Drop what an unfinished write left: staging graphs, and the graphs a bulk write had not
        committed (with their triples taken out of the merge where no other graph holds them)."""
        if self._remote is not None:
            rows = self._remote.select(
                "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                f'FILTER(STRSTARTS(STR(?g), "{_STAGING}")) }}'
            )[1]
            drops = [f"DROP SILENT GRAPH <{safe_term(r['g'])}>" for r in rows]
            if drops:
                self._remote.update(" ;\n".join(drops))
            return
        assert self._ox is not None
        native = self._ox
        for g in list(native.named_graphs()):
            if g == _MERGE_JOURNAL:
                native.clear_graph(ox.DefaultGraph())  # built again by _ensure_merge
                native.remove_graph(g)
            elif isinstance(g, ox.NamedNode) and g.value.startswith(_STAGING):
                self._invalidate_generation()  # a write left unfinished: its crash left none already
                # A journal names graphs a bulk write left unfinished: they were empty before it.
                pending = {
                    q.object
                    for q in native.quads_for_pattern(None, _PENDING, None, g)
                    if isinstance(q.object, ox.NamedNode)
                }
                if pending:
                    ops = _delta_ops({}, {}, pending, merge=None)
                    native.update(" ;\n".join(ops))
                native.remove_graph(g)

    # ------------------------------------------------------------------ a full disk

    def _full(self, exc: BaseException) -> PactgraphError:
        """A write that ran out of disk space: made not at all (the engine writes its log before
        anything is visible, a bulk load under a journal; its orphan files are removed). RocksDB
        then refuses every write until it is opened again: the next write (or `check_space`)
        does that, once there is room."""
        self._reopen = True
        where = self.path or "the store"
        self.no_space = f"the disk holding {where} is full: the last write was not made ({exc})"
        self._free_after = _free(self.path)
        return PactgraphError(
            Kind.NO_SPACE,
            f"the disk holding the store is full: nothing of this write was written ({exc}); "
            "free some space and send it again",
        )

    def _recover(self) -> None:
        """Open the engine again after a write that found the disk full (under the write lock), once
        the disk takes a probe, and drop what that write left (staging, an unfinished bulk write).
        Raises NO_SPACE, saying why, when that cannot be done yet (the next write tries again)."""
        if not self._reopen or self.path is None or self._ox is None:
            return
        room = self._probe()
        if room is not None:
            raise PactgraphError(Kind.NO_SPACE, f"the disk holding the store is still full ({room})")
        self.dataset = Dataset()
        gc.collect()  # the failed write's traceback (a cycle) may still hold the old handle
        if sys.getrefcount(self._ox) > 2:  # RocksDB locks the path until its last holder lets go
            self.dataset = Dataset(store=OxigraphStore(store=self._ox), default_union=False)
            raise PactgraphError(
                Kind.NO_SPACE,
                "the store refuses writes since the disk was full, and a reader still holds it: "
                "the next write opens it again",
            )
        self._ox = None
        try:
            native = ox.Store(str(self.path))
        except OSError as exc:
            native = ox.Store.read_only(str(self.path))  # reads go on; the next write tries again
            self._ox = native
            self.dataset = Dataset(store=OxigraphStore(store=native), default_union=False)
            raise PactgraphError(
                Kind.NO_SPACE, f"the store cannot take writes again yet after a full disk ({exc})"
            ) from exc
        self._ox = native
        self.dataset = Dataset(store=OxigraphStore(store=native), default_union=False)
        self._version += 1  # readers and workers of the old handle start again
        self._reopen = False
        try:
            self._drop_staging()
        except OSError as exc:
            self._reopen = True
            raise (self._full(exc) if _no_space(exc) else exc) from exc
        log.info("the store at %s takes writes again after a full disk", self.path)

    def _probe(self) -> str | None:
        """Whether the disk beside the store takes 1 MiB, written and synced (None), or why not."""
        probe = (self.meta_dir or Path(".")) / f"space-probe.{os.getpid()}"
        try:
            with probe.open("wb") as f:
                f.write(b"\0" * (1 << 20))
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            return exc.strerror or str(exc)
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
        return None

    def check_space(self) -> str | None:
        """While the last write failed for want of space: whether space was freed since (at least
        SPACE_FREED more than right after that write) and the store takes writes again
        (`_recover`); None once it does, else what is wrong. Never waits for a write in progress
        (readiness asks this)."""
        if self.no_space is None:
            return None
        free = _free(self.path)
        if free < self._free_after + SPACE_FREED:
            return f"{self.no_space}; no space freed since ({free // 1024} KiB free)"
        if not self._write_lock.acquire(blocking=False):
            return self.no_space
        try:
            if self._reopen:
                self._recover()
            elif (room := self._probe()) is not None:
                return f"{self.no_space}; still no room ({room})"
        except PactgraphError as exc:
            return f"{self.no_space}; {exc}"
        finally:
            self._write_lock.release()
        self.no_space = None
        return None

    def _remove_orphans(self) -> None:
        """Remove the files a bulk load that failed left in the store's directory (RocksDB knows
        nothing of them): only this process writes the store, and no bulk load is running now."""
        if self.path is None:
            return
        for f in self.path.glob("bulk-*.sst"):
            with contextlib.suppress(OSError):
                f.unlink()

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


DATASET_DEFAULT = URIRef("urn:x-rdflib:default")  # rdflib's name for a Dataset's default graph


_XSD_STRING = ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")


def _plain(value: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    """As `term`, a simple literal untyped: rdflib tells "x" from "x"^^xsd:string (RDF 1.1 does not),
    and its in-memory store matches terms as rdflib sees them."""
    if isinstance(value, ox.Literal) and value.datatype == _XSD_STRING and not value.language:
        return Literal(value.value)
    return term(value)


def _memory_quad(q: ox.Quad) -> tuple[Node, Node, Node, str]:
    if not isinstance(q.graph_name, ox.NamedNode):
        raise PactgraphError(Kind.BAD_INPUT, "a change names its graphs (the default graph is DEFAULT_GRAPH)")
    return term(q.subject), term(q.predicate), _plain(q.object), q.graph_name.value


def _has_blank_nodes(batch: ox.Store) -> bool:
    found = batch.query("ASK { GRAPH ?g { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } }")
    return bool(found)


def _data_filter(var: str) -> str:
    """A FILTER keeping the data graphs (`data_graph`) in a SPARQL query."""
    return f'FILTER({var} = <{DEFAULT_GRAPH}> || !STRSTARTS(STR({var}), "{INTERNAL}"))'


def _delta_ops(
    added: Mapping[ox.NamedNode, ox.NamedNode],
    removed: Mapping[ox.NamedNode, ox.NamedNode],
    dropped: set[ox.NamedNode],
    merge: str | None,
) -> list[str]:
    """The SPARQL update that makes a staged change and keeps the merge in step (`merge`: the
    graph holding it, None for the default graph), in this order: the removed quads go; the
    added quads of graphs that stay come in; triples that left a graph, or whose graph is
    dropped, leave the merge unless a data graph still holds them (or a dropped graph's new
    content); the dropped graphs go and their new content comes in; what was added joins the merge;
    the staging graphs go."""

    def merged(pattern: str) -> str:
        return pattern if merge is None else f"GRAPH {merge} {{ {pattern} }}"

    ops = [
        f"DELETE {{ GRAPH {g} {{ {_SPO} }} }} WHERE {{ GRAPH {stage} {{ {_SPO} }} }}"
        for g, stage in removed.items()
    ]
    ops += [
        f"INSERT {{ GRAPH {g} {{ {_SPO} }} }} WHERE {{ GRAPH {stage} {{ {_SPO} }} }}"
        for g, stage in added.items()
        if g not in dropped
    ]
    candidates = [str(s) for s in removed.values()] + [str(g) for g in sorted(dropped, key=str)]
    if candidates:
        gone = ", ".join(str(g) for g in sorted(dropped, key=str))
        renewed = ", ".join(str(added[g]) for g in sorted(dropped, key=str) if g in added)
        still = f'((?h = <{DEFAULT_GRAPH}> || !STRSTARTS(STR(?h), "{INTERNAL}"))'
        still += f" && ?h NOT IN ({gone}))" if gone else ")"
        if renewed:
            still = f"({still} || ?h IN ({renewed}))"
        ops.append(
            f"DELETE {{ {merged(_SPO)} }} "
            f"WHERE {{ VALUES ?c {{ {' '.join(candidates)} }} GRAPH ?c {{ {_SPO} }} "
            f"FILTER NOT EXISTS {{ GRAPH ?h {{ {_SPO} }} FILTER({still}) }} }}"
        )
    ops += [f"DROP SILENT GRAPH {g}" for g in sorted(dropped, key=str)]
    ops += [
        f"INSERT {{ GRAPH {g} {{ {_SPO} }} }} WHERE {{ GRAPH {added[g]} {{ {_SPO} }} }}"
        for g in sorted(dropped, key=str)
        if g in added
    ]
    ops += [f"INSERT {{ {merged(_SPO)} }} WHERE {{ GRAPH {stage} {{ {_SPO} }} }}" for stage in added.values()]
    ops += [f"DROP SILENT GRAPH {stage}" for stage in (*added.values(), *removed.values())]
    return ops


def _forget(exc: BaseException) -> None:
    """Clear the locals of the finished frames an error's traceback (and those of the errors it
    chains) keeps: a failed write's frames hold the engine's handle, which must be let go of before
    it can be opened again, and the error may live on (a future, a log record)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        stack += [e.__cause__, e.__context__]


SPACE_FREED = 1 << 20
"""Bytes that must come free, after a write found the disk full, for readiness to come back."""


def _free(path: Path | None) -> int:
    try:
        return shutil.disk_usage(path or ".").free
    except OSError:
        return 0


def _no_space(exc: BaseException) -> bool:
    """An error of a full disk (or quota), from Python or from the engine (its message only)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, OSError) and (
        "No space left on device" in str(exc) or "quota exceeded" in str(exc)
    )


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

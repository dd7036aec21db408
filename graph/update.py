"""SPARQL 1.1 Update as a change: what an update would add and remove, worked out without writing.

Every write is validated before it is made (issue 16), so an update is not handed to the engine
to run on the store. Its operations are read here and evaluated against the store, and against
the changes of the operations before them in the same request, into one `Delta` that the write
path validates and applies in one transaction (graph/writes.py, `Store.apply`):

- INSERT DATA / DELETE DATA: the quads, read by Oxigraph's TriG parser (a QuadData block is TriG
  once its triples outside GRAPH are wrapped in braces);
- DELETE WHERE and DELETE/INSERT … WHERE: the WHERE pattern run by the engine as `SELECT *` over
  the dataset the operation names (USING / USING NAMED, else WITH's graph, else the store's: the
  merge of every graph), its templates (read the same way, variables as placeholder IRIs) filled
  in per solution: the deletions of all solutions, then the insertions;
- CLEAR, DROP, CREATE, ADD, MOVE, COPY, with Oxigraph's rules for graphs that (do not) exist.

Triples without GRAPH go to the store's own default graph (DEFAULT_GRAPH), or to WITH's graph.
The engine checks the syntax first (on an empty in-memory store), so what is read here is well
formed. A WHERE that must see what an earlier operation of the same request changed, and every
WHERE on `memory:`, runs on an in-memory pyoxigraph copy of the store with those changes: exact,
at the cost of the copy. The predeclared prefixes (graph/sparql.py PREFIXES) apply.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
from oxrdflib._converter import to_ox

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.sparql import PREFIXES, dataset_query, masked, refuse_unsafe, resolve_iri
from pactgraph.graph.store import (
    DEFAULT_GRAPH,
    MERGE_GRAPH,
    Delta,
    Store,
    data_graph,
    refuse_reserved,
    visible_graph,
)

Term = ox.NamedNode | ox.BlankNode | ox.Literal
_D = ox.NamedNode(str(DEFAULT_GRAPH))

_VAR = re.compile(r"[?$]([A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)")
_PNAME = re.compile(
    r"(?:[A-Za-z\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*)?:(?:[\w\-:%\\.\u00B7\u00C0-\uFFFF]*[\w\-:%\u00B7\u00C0-\uFFFF])?"
)


def _word(*words: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w:?$])" + r"\s+".join(words) + r"(?![\w:\-])", re.I)


_PREDECLARED = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())
_KW = {
    name: _word(*name.split())
    for name in (
        "PREFIX",
        "BASE",
        "INSERT DATA",
        "DELETE DATA",
        "DELETE WHERE",
        "INSERT",
        "DELETE",
        "WITH",
        "USING NAMED",
        "USING",
        "WHERE",
        "CLEAR",
        "DROP",
        "CREATE",
        "ADD",
        "MOVE",
        "COPY",
        "LOAD",
        "SILENT",
        "GRAPH",
        "DEFAULT",
        "NAMED",
        "ALL",
        "TO",
    )
}


@dataclass(frozen=True)
class _Block:
    """A `{…}` of the update: its text with braces, and where it starts in the update."""

    start: int
    end: int  # after the closing brace


@dataclass
class _Op:
    kind: str
    prologue: str
    silent: bool = False
    blocks: dict[str, _Block] = field(default_factory=dict)  # data, delete, insert, where
    graphs: list[str | None] = field(default_factory=list)  # graph references (None: DEFAULT)
    target: str = ""  # CLEAR/DROP: GRAPH, DEFAULT, NAMED or ALL
    with_graph: str | None = None
    using: list[str] = field(default_factory=list)
    using_named: list[str] = field(default_factory=list)


class _Reader:
    """Reads the structure of a well-formed update (the engine has checked it) from its text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = masked(text)
        self.pos = 0
        self.prologue = _PREDECLARED

    def _space(self) -> None:
        while self.pos < len(self.masked) and self.masked[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self._space()
        return self.pos >= len(self.masked)

    def accept(self, name: str) -> bool:
        self._space()
        m = _KW[name].match(self.masked, self.pos)
        if m is None:
            return False
        self.pos = m.end()
        return True

    def punct(self, char: str) -> bool:
        self._space()
        if self.masked.startswith(char, self.pos):
            self.pos += 1
            return True
        return False

    def iri(self) -> str:
        """An IRI as written (`<…>` or a prefixed name), resolved against the prologue."""
        self._space()
        if self.masked.startswith("<", self.pos):
            end = self.masked.index(">", self.pos) + 1
        else:
            m = _PNAME.match(self.masked, self.pos)
            if m is None or not m.group():
                raise self._unreadable()
            end = m.end()
        written = self.text[self.pos : end]
        self.pos = end
        return resolve_iri(self.prologue, written)

    def block(self) -> _Block:
        self._space()
        if not self.masked.startswith("{", self.pos):
            raise self._unreadable()
        depth = 0
        for i in range(self.pos, len(self.masked)):
            c = self.masked[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    found = _Block(self.pos, i + 1)
                    self.pos = i + 1
                    return found
        raise self._unreadable()

    def graph_or_default(self) -> str | None:
        if self.accept("DEFAULT"):
            return None
        self.accept("GRAPH")
        return self.iri()

    def _unreadable(self) -> PactgraphError:
        return PactgraphError(
            Kind.BAD_INPUT,
            f"cannot read the update near character {self.pos}: {self.text[self.pos : self.pos + 40]!r}",
        )

    def operations(self) -> Iterator[_Op]:
        while True:
            while True:  # the prologue: declarations stay in force for the operations after them
                start = self.pos
                if self.accept("PREFIX"):
                    self._space()
                    m = _PNAME.match(self.masked, self.pos)
                    self.pos = m.end() if m else self.pos
                    self.iri()
                    self.prologue += self.text[start : self.pos].strip() + "\n"
                elif self.accept("BASE"):
                    self.iri()
                    self.prologue += self.text[start : self.pos].strip() + "\n"
                else:
                    break
            if self.at_end():
                return
            yield self._operation()
            if not self.punct(";"):
                if not self.at_end():
                    raise self._unreadable()
                return

    def _operation(self) -> _Op:
        op = _Op("", self.prologue)
        if self.accept("INSERT DATA"):
            op.kind = "insert-data"
            op.blocks["data"] = self.block()
        elif self.accept("DELETE DATA"):
            op.kind = "delete-data"
            op.blocks["data"] = self.block()
        elif self.accept("DELETE WHERE"):
            op.kind = "delete-where"
            op.blocks["where"] = op.blocks["delete"] = self.block()
        elif self._peek_modify():
            op.kind = "modify"
            if self.accept("WITH"):
                op.with_graph = self.iri()
            if self.accept("DELETE"):
                op.blocks["delete"] = self.block()
            if self.accept("INSERT"):
                op.blocks["insert"] = self.block()
            while True:
                if self.accept("USING NAMED"):
                    op.using_named.append(self.iri())
                elif self.accept("USING"):
                    op.using.append(self.iri())
                else:
                    break
            if not self.accept("WHERE"):
                raise self._unreadable()
            op.blocks["where"] = self.block()
        elif self.accept("CLEAR") or self.accept("DROP"):
            op.kind = "clear"
            op.silent = self.accept("SILENT")
            if self.accept("GRAPH"):
                op.target, op.graphs = "GRAPH", [self.iri()]
            else:
                for name in ("DEFAULT", "NAMED", "ALL"):
                    if self.accept(name):
                        op.target = name
                        break
                else:
                    raise self._unreadable()
        elif self.accept("CREATE"):
            op.kind = "create"
            op.silent = self.accept("SILENT")
            self.accept("GRAPH")
            op.graphs = [self.iri()]
        else:
            for name in ("ADD", "MOVE", "COPY"):
                if self.accept(name):
                    op.kind = name.lower()
                    op.silent = self.accept("SILENT")
                    source = self.graph_or_default()
                    if not self.accept("TO"):
                        raise self._unreadable()
                    op.graphs = [source, self.graph_or_default()]
                    break
            else:
                if self.accept("LOAD"):
                    raise PactgraphError(
                        Kind.BAD_INPUT, "LOAD is refused: an update may not read URLs or files"
                    )
                raise self._unreadable()
        return op

    def _peek_modify(self) -> bool:
        saved = self.pos
        found = any(self.accept(name) for name in ("WITH", "DELETE", "INSERT"))
        self.pos = saved
        return found


# --------------------------------------------------------------------------------- templates


class _Template:
    """The quads of a QuadData or QuadPattern block, read by Oxigraph's TriG parser; variables
    stand as placeholder IRIs (`var`), and triples outside GRAPH go to `default`."""

    def __init__(self, reader: _Reader, block: _Block, prologue: str) -> None:
        self.token = uuid.uuid4().hex
        self.var_prefix = f"urn:pactgraph:variable:{self.token}:"
        text = self._trig(reader, block)
        try:
            self.quads = list(ox.parse((prologue + text).encode("utf-8"), format=ox.RdfFormat.TRIG))
        except SyntaxError as exc:
            raise PactgraphError(Kind.BAD_INPUT, f"cannot read a template of the update: {exc}") from exc

    def _placeholders(self, reader: _Reader, start: int, end: int) -> str:
        out, at = [], start
        for m in _VAR.finditer(reader.masked, start, end):
            out.append(reader.text[at : m.start()])
            out.append(f"<{self.var_prefix}{m.group(1)}>")
            at = m.end()
        out.append(reader.text[at:end])
        return "".join(out)

    def _trig(self, reader: _Reader, block: _Block) -> str:
        """The block as TriG: `GRAPH x {…}` parts kept, the parts between them wrapped in `{…}`."""
        masked = reader.masked
        inner_start, inner_end = block.start + 1, block.end - 1
        parts: list[str] = []
        depth, i, plain = 0, inner_start, inner_start
        graph_kw = _KW["GRAPH"]
        while i < inner_end:
            c = masked[i]
            if c in "{[(":
                depth += 1
            elif c in "}])":
                depth -= 1
            elif depth == 0 and (m := graph_kw.match(masked, i)) is not None:
                parts.append("{ " + self._placeholders(reader, plain, i) + " }")
                sub = _Reader(reader.text)
                sub.masked, sub.pos, sub.prologue = masked, m.end(), reader.prologue
                sub._space()
                name_start = sub.pos
                while sub.pos < inner_end and not masked[sub.pos].isspace() and masked[sub.pos] != "{":
                    sub.pos += 1
                name = self._placeholders(reader, name_start, sub.pos)
                body = sub.block()
                parts.append(f"GRAPH {name} {{ {self._placeholders(reader, body.start + 1, body.end - 1)} }}")
                i = sub.pos
                sub._space()
                if masked.startswith(".", sub.pos):
                    sub.pos += 1
                plain = i = sub.pos
                continue
            i += 1
        parts.append("{ " + self._placeholders(reader, plain, inner_end) + " }")
        return "\n".join(p for p in parts if p.strip("{} \t\r\n."))

    def variable(self, t: object) -> str | None:
        if isinstance(t, ox.NamedNode) and t.value.startswith(self.var_prefix):
            return t.value[len(self.var_prefix) :]
        return None

    def ground(self, default: ox.NamedNode) -> list[ox.Quad]:
        """The quads of a block without variables (DATA), triples outside GRAPH in `default`; its
        blank nodes are new nodes (the parser keeps labels as written: `_:a` twice is one node)."""
        return list(self.fill({}, default, fresh=True, foreign_blanks=False))

    def fill(
        self, solution: dict[str, Term], default: ox.NamedNode, fresh: bool, foreign_blanks: bool
    ) -> Iterator[ox.Quad]:
        """The template's quads for one solution; a quad with an unbound variable, or that would
        not be RDF (a literal subject…), is left out, as the standard says."""
        blanks: dict[str, ox.BlankNode] = {}

        def value(t: object) -> object:
            name = self.variable(t)
            if name is not None:
                found = solution.get(name)
                if foreign_blanks and isinstance(found, ox.BlankNode):
                    raise PactgraphError(
                        Kind.BAD_INPUT,
                        "on the sparql: backend an update cannot reuse a blank node of the server "
                        f"(?{name}): the protocol has no name for it",
                    )
                return found
            if isinstance(t, ox.BlankNode) and fresh:
                return blanks.setdefault(t.value, ox.BlankNode())
            return t

        for q in self.quads:
            s, p, o = value(q.subject), value(q.predicate), value(q.object)
            g = value(q.graph_name) if isinstance(q.graph_name, ox.NamedNode) else default
            if g == _D and isinstance(q.graph_name, ox.NamedNode):
                refuse_reserved([_D.value])  # GRAPH names the default graph by its inner name
            if (
                isinstance(s, ox.NamedNode | ox.BlankNode)
                and isinstance(p, ox.NamedNode)
                and isinstance(o, ox.NamedNode | ox.BlankNode | ox.Literal)
                and isinstance(g, ox.NamedNode)
            ):
                yield ox.Quad(s, p, o, g)


# --------------------------------------------------------------------------------- the view


class _View:
    """The store as the operations read so far would leave it: the store, and the change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.delta = Delta()
        self.created: set[ox.NamedNode] = set()
        self._copy: ox.Store | None = None

    # what the view holds

    def contains(self, q: ox.Quad) -> bool:
        if q in self.delta.added:
            return True
        if q.graph_name in self.delta.dropped or q in self.delta.removed:
            return False
        return self.store.contains(q)

    def quads(self, g: ox.NamedNode) -> list[ox.Quad]:
        kept: list[ox.Quad] = []
        if g not in self.delta.dropped:
            kept = [q for q in self.store.match(graph=g) if q not in self.delta.removed]
        return kept + list(self.delta.added.quads_for_pattern(None, None, None, g))

    def exists(self, g: ox.NamedNode) -> bool:
        return g == _D or g in self.created or bool(self.quads(g))

    def named(self) -> set[ox.NamedNode]:
        """The named graphs of the view (the store's own default graph left out)."""
        found = {ox.NamedNode(str(g)) for g in self.store.graph_names()} - self.delta.dropped
        found |= {q.graph_name for q in self.delta.added if isinstance(q.graph_name, ox.NamedNode)}
        return {g for g in found if visible_graph(g.value)} | self.created

    # changes

    def add(self, q: ox.Quad) -> None:
        if self.contains(q):
            return
        if q in self.delta.removed:
            self.delta.removed.discard(q)
        else:
            self.delta.added.add(q)
        if self._copy is not None:
            self._copy.add(q)
            self._copy.add(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()))

    def remove(self, q: ox.Quad) -> None:
        if q in self.delta.added:
            self.delta.added.remove(q)
        elif self.contains(q):
            self.delta.removed.add(q)
        else:
            return
        if self._copy is not None:
            self._copy.remove(q)
            self._merge_dirty = True

    def drop(self, g: ox.NamedNode) -> None:
        self.created.discard(g)
        self.delta.added.remove_graph(g)
        self.delta.removed = {q for q in self.delta.removed if q.graph_name != g}
        if next(self.store.match(graph=g), None) is not None:
            self.delta.dropped.add(g)
        if self._copy is not None:
            self._copy.remove_graph(g)
            self._merge_dirty = True

    # evaluation

    def solutions(
        self, query: str, defaults: list[str] | None, named: list[str] | None
    ) -> list[dict[str, Term]]:
        """The solutions of a SELECT over the view (the store's dataset unless one is named)."""
        if self._copy is None and self.delta.empty() and not self.created and self.store.kind != "memory":
            if self.store.remote is not None:
                return self._remote_solutions(query, defaults, named)
            assert self.store.oxigraph is not None
            result = dataset_query(self.store, self.store.oxigraph, query, defaults, named, prefixes=PREFIXES)
        else:
            copy = self._the_copy()
            result = dataset_query(None, copy, query, defaults, named, prefixes=PREFIXES)
        assert isinstance(result, ox.QuerySolutions)
        names = [v.value for v in result.variables]
        return [
            {
                n: v
                for n, v in zip(names, row, strict=False)
                if isinstance(v, ox.NamedNode | ox.BlankNode | ox.Literal)
            }
            for row in result
        ]

    def _remote_solutions(
        self, query: str, defaults: list[str] | None, named: list[str] | None
    ) -> list[dict[str, Term]]:
        remote = self.store.remote
        assert remote is not None
        if defaults is None and named is None:
            defaults, named = self.store.remote_dataset(query)
        elif named is None:
            named = [g.value for g in self.store.visible_graphs()]
        elif defaults is None:
            defaults = [str(MERGE_GRAPH)]
        rows = remote.select(query, defaults or [], named or [])[1]
        return [
            {
                k: t
                for k, v in row.items()
                if isinstance(t := to_ox(v), ox.NamedNode | ox.BlankNode | ox.Literal)
            }
            for row in rows
        ]

    _merge_dirty = False

    def _the_copy(self) -> ox.Store:
        """The view as an in-memory store laid out as the store is (the merge in the default graph)."""
        if self._copy is None:
            copy = ox.Store()
            copy.extend(
                q
                for q in self.store.match()
                if q.graph_name not in self.delta.dropped and q not in self.delta.removed
            )
            copy.extend(self.delta.added)
            for g in self.created:
                copy.add_graph(g)
            self._copy = copy
            self._merge_dirty = True
        if self._merge_dirty:
            self._copy.clear_graph(ox.DefaultGraph())
            default = ox.DefaultGraph()
            self._copy.extend(
                [
                    ox.Quad(q.subject, q.predicate, q.object, default)
                    for q in self._copy.quads_for_pattern(None, None, None, None)
                    if isinstance(q.graph_name, ox.NamedNode) and data_graph(q.graph_name.value)
                ]
            )
            self._merge_dirty = False
        return self._copy


# --------------------------------------------------------------------------------- evaluation


def check_syntax(text: str) -> None:
    """Refuse what the engine would not parse (with its message), and SERVICE and LOAD. The
    engine runs the update on an empty in-memory store: only parsing can fail there."""
    refuse_unsafe(text, "update")
    try:
        ox.Store().update(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"bad SPARQL update: {exc}") from exc
    except (RuntimeError, ValueError, OSError):
        pass  # evaluation on the empty store (a missing graph…): judged against the real one below


def evaluate(store: Store, text: str) -> Delta:
    """What the update would change in the store, as one Delta (nothing is written)."""
    check_syntax(text)
    reader = _Reader(text)
    view = _View(store)
    for op in reader.operations():
        _run(view, reader, op)
    return view.delta


def _refused(message: str) -> PactgraphError:
    return PactgraphError(Kind.BAD_INPUT, f"the update was refused and nothing was changed: {message}")


def _graph(iri: str | None) -> ox.NamedNode:
    if iri == _D.value:
        refuse_reserved([iri])  # by its inner name: a client says DEFAULT or leaves GRAPH out
    return _D if iri is None else ox.NamedNode(iri)


def _run(view: _View, reader: _Reader, op: _Op) -> None:
    if op.kind in ("insert-data", "delete-data"):
        quads = _Template(reader, op.blocks["data"], op.prologue).ground(_D)
        for q in quads:
            (view.add if op.kind == "insert-data" else view.remove)(q)
    elif op.kind in ("delete-where", "modify"):
        _modify(view, reader, op)
    elif op.kind == "clear":
        _clear(view, op)
    elif op.kind == "create":
        g = _graph(op.graphs[0])
        if view.exists(g) and g != _D:
            if not op.silent:
                raise _refused(f"the graph <{g.value}> already exists")
        else:
            view.created.add(g)
    else:
        source, target = (_graph(x) for x in op.graphs)
        if source == target:
            return
        quads = view.quads(source)
        if op.kind in ("move", "copy"):
            view.drop(target)
        for q in quads:
            view.add(ox.Quad(q.subject, q.predicate, q.object, target))
        if op.kind == "move":
            view.drop(source)


def _clear(view: _View, op: _Op) -> None:
    if op.target in ("DEFAULT", "NAMED", "ALL"):
        if op.target != "NAMED":
            view.drop(_D)
        if op.target != "DEFAULT":
            view.delta.every_graph = True
            for g in sorted(view.named(), key=str):
                view.drop(g)
        return
    g = _graph(op.graphs[0])
    if not view.exists(g):
        if not op.silent:
            raise _refused(f"the graph <{g.value}> does not exist")
        return
    view.drop(g)


def _modify(view: _View, reader: _Reader, op: _Op) -> None:
    where = op.blocks["where"]
    query = f"{op.prologue}SELECT * WHERE {reader.text[where.start : where.end]}"
    defaults: list[str] | None = None
    named: list[str] | None = None
    if op.using or op.using_named:
        defaults, named = op.using, op.using_named
    elif op.with_graph is not None:
        defaults = [op.with_graph]
    refuse_unsafe(query, "update")  # what the engine is given is checked, not only the whole text
    try:
        solutions = view.solutions(query, defaults, named)
    except SyntaxError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"bad SPARQL update: {exc}") from exc
    except (RuntimeError, ValueError, OSError) as exc:
        raise PactgraphError(Kind.EVALUATION, f"the update's WHERE could not be evaluated: {exc}") from exc
    target = _graph(op.with_graph) if op.with_graph is not None else _D
    foreign = view.store.remote is not None
    deletes: list[ox.Quad] = []
    inserts: list[ox.Quad] = []
    if "delete" in op.blocks:
        template = _Template(reader, op.blocks["delete"], op.prologue)
        deletes = list(
            itertools.chain.from_iterable(template.fill(s, target, False, foreign) for s in solutions)
        )
    if "insert" in op.blocks:
        template = _Template(reader, op.blocks["insert"], op.prologue)
        inserts = list(
            itertools.chain.from_iterable(template.fill(s, target, True, foreign) for s in solutions)
        )
    for q in deletes:
        view.remove(q)
    for q in inserts:
        view.add(q)


def quads_of(delta: Delta) -> Iterable[ox.Quad]:
    """The quads a change adds (for callers that report or count them)."""
    return delta.added.quads_for_pattern(None, None, None, None)

"""SPARQL as the user writes it: safety checks, then native evaluation and native serialization.

A query or update never reaches the network or the file system: SERVICE and LOAD are refused
before the engine sees them, in every reading of the text the engine could make (`_read`: the
scan skips strings, IRIs and comments, so a label containing the word "service" is fine, and it
reads IRIs with UCHAR escapes as the grammar does). The row limit is counted on the engine's
output, never on the text's LIMIT; graph answers are cut at it too.

The dataset a query sees follows SPARQL 1.1: the protocol's default-graph-uri / named-graph-uri
when given (exactly those graphs), else the query's FROM / FROM NAMED, else the store's: the merge
of every graph as default graph (graph/store.py) and every named graph. A default graph made of
two or more graphs is their merge (a set): Oxigraph would match a triple once per graph, so those
graphs are merged into an in-memory copy first. The prefixes in PREFIXES need no PREFIX line.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import re
from dataclasses import dataclass
from typing import IO, Any, cast
from typing import Literal as Lit

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.store import DEFAULT_GRAPH, MERGE_GRAPH, Store, visible_graph
from pactgraph.ontology import ENTITY_BASE, PG

ResultKind = Lit["select", "ask", "graph"]

PREFIXES: dict[str, str] = {
    "pg": str(PG),
    "id": ENTITY_BASE,
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "schema": "https://schema.org/",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
}
"""Prefixes every query and update may use without a PREFIX line (one in the query wins). The
service description lists them, and GET /sparql/prefixes serves them to the web explorer."""

# IRIREF as the grammar has it: only ASCII space and controls end it, not "\s" (U+00A0...), and
# UCHAR escapes (\uXXXX, \UXXXXXXXX) are part of it; the engine decodes them inside IRIs and
# strings only (nowhere else: `S\u0045LECT` is a syntax error to it).
_IRIREF = r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"
# Strings (long and short), IRIs, comments, and a backslash escape in code (a prefixed name's
# `\#`, `\'`: part of the name, so neither a comment nor a string starts there).
_OPAQUE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|" + _IRIREF +
    # a comment ends at a line feed or a carriage return
    r"|#[^\r\n]*"
    r"|\\.",
    re.S,
)


def _same_length(m: re.Match[str]) -> str:
    text = m.group()
    if text[0] == "\\":
        return "__"  # part of a prefixed name: name characters, never syntax
    return " " * len(text) if text[0] == "#" else text[0] + "_" * (len(text) - 2) + text[-1]


def masked(text: str) -> str:
    """The text with comments, strings and IRIs blanked in place (same length, same positions),
    so that its structure can be read without anything inside them looking like syntax.

    A `<` is read as the engine reads it: inside an expression's brackets and right after an
    operand (`FILTER(?a<'>')`) it compares, elsewhere it starts an IRI. (The safety checks do
    not rely on that judgement: `_read` follows both readings.)"""
    parts: list[str] = []
    at = pos = 0
    contexts: list[str] = []  # per open bracket: "e" an expression's, "c" anything else
    while (m := _MASK_STOP.search(text, pos)) is not None:
        i = m.start()
        c = text[i]
        if c == "<":
            found = _IRI_AT.match(text, i)
            if found is not None and contexts and contexts[-1] == "e" and _operand_before(text, i):
                found = None  # a comparison
        elif c in "\"'#\\":
            found = _OPAQUE.match(text, i)  # None: an unterminated string, which the engine refuses
        else:
            if c == "(":
                contexts.append("e" if _opens_expression(text, i, contexts) else "c")
            elif c in "{[":
                contexts.append("c")
            elif contexts:
                contexts.pop()
            pos = i + 1
            continue
        if found is None:
            pos = i + 1
            continue
        parts.append(text[at:i])
        parts.append(_same_length(found))
        at = pos = found.end()
    parts.append(text[at:])
    return "".join(parts)


_MASK_STOP = re.compile(r"[<\"'#\\(){}\[\]]")


def _before(text: str, i: int) -> tuple[str, bool]:
    """The last character before position i that is not a space, and whether a space came between."""
    j = i - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    return (text[j] if j >= 0 else ""), j < i - 1


def _operand_before(text: str, i: int) -> bool:
    """Whether what precedes position i ends an operand (a variable, a number, a name, a literal,
    a bracket): a `<` there is a comparison."""
    c, _ = _before(text, i)
    return c.isalnum() or c in "_)'\""


def _opens_expression(text: str, i: int, contexts: list[str]) -> bool:
    """Whether the `(` at i opens an expression's brackets (FILTER(, a function call, a nested
    expression) rather than a collection or a VALUES row."""
    if contexts and contexts[-1] == "e":
        return True
    c, spaced = _before(text, i)
    if c in "=!<&|+-*/,":
        return True
    if c == ">":  # an IRI's function call, written against its bracket
        return not spaced
    if not (c.isalnum() or c == "_"):
        return False
    end = i
    while text[end - 1] in " \t\r\n":
        end -= 1
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.:-"):
        start -= 1
    if start > 0 and text[start - 1] in "?$":
        return False  # a variable: `?p (1 2)` is a collection
    if ":" in text[start:end]:
        return not spaced  # a prefixed function's call, or a collection after a predicate
    return True  # a keyword or a built-in: FILTER (, BIND(, STR(, IN (


# ------------------------------------------------------------------------------ the checks' reading
#
# A regular reading of SPARQL is ambiguous at `<`: in `FILTER(?a<'>')` the engine reads a
# comparison and a string, in `?s <http://a/'> ?o` an IRI. A scan that picks one reading can be
# led to take code for a string or a comment, and miss a SERVICE behind it. The checks follow
# every reading at once (a small automaton over the lexer's states: code, IRI, four kinds of
# string, comment) and refuse on what ANY reading finds, so the engine's own reading is always
# among those checked, whatever it decides at each `<`.

_CODE, _IRI, _S1, _S2, _L1, _L2, _COMMENT = range(7)
_CODE_STOP = re.compile(r"[<\"'#\\(){}\[\]!]")
_ENDS = {
    _S1: re.compile(r"(?:[^'\\\n\r]|\\.)*(?:'|[\n\r]|\Z)", re.S),
    _S2: re.compile(r'(?:[^"\\\n\r]|\\.)*(?:"|[\n\r]|\Z)', re.S),
    _L1: re.compile(r"(?:[^'\\]|\\.|'(?!''))*(?:'''|\Z)", re.S),
    _L2: re.compile(r'(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)', re.S),
}
_IRI_AT = re.compile(_IRIREF)
_BANGS = re.compile(r"(?:!(?!\s*=)\s*)+")
_FLAGGED = re.compile(rb"\x01+")


@dataclass(frozen=True)
class _Reading:
    """What the checks read of a text: `code` keeps the characters that some reading takes for
    code (the rest blanked); `keywords` the same but for the inside of a `<…>` read as a
    comparison (no keyword works there: it holds no space and no brace); `depth` the deepest
    nesting of brackets and unary `!` of any reading (so at least the engine's)."""

    code: str
    keywords: str
    depth: int


def _keep(text: str, flags: bytearray) -> str:
    out: list[str] = []
    at = 0
    for m in _FLAGGED.finditer(flags):
        out.append(" " * (m.start() - at))
        out.append(text[m.start() : m.end()])
        at = m.end()
    out.append(" " * (len(text) - at))
    return "".join(out)


def _read(text: str) -> _Reading:
    """The text as every reading sees it (see _Reading). Stops early, with what it found so far,
    once some reading nests deeper than MAX_NESTING: the text is refused for that alone."""
    n = len(text)
    code = bytearray(n)  # 1: code in some reading
    kw = bytearray(n)  # 1: code, outside a `<…>` read as a comparison
    deepest = 0
    # Readings waiting at a position: (state, end of the `<…>` read as code, or -1) -> depth.
    # Readings that meet (same place, same state) go on as one, keeping the deeper nesting.
    pending: dict[int, dict[tuple[int, int], int]] = {0: {(_CODE, -1): 0}}
    heap = [0]
    memo = [-1, -1]  # the last comment read: where it was entered, where it ends
    while heap:
        pos = heapq.heappop(heap)
        for (state, r_end), depth in pending.pop(pos).items():
            for nxt, nstate, nr_end, ndepth, peak in _step(text, n, pos, state, r_end, depth, code, kw, memo):
                deepest = max(deepest, peak)
                if deepest > MAX_NESTING:
                    return _Reading(_keep(text, code), _keep(text, kw), deepest)
                if nxt >= n:
                    continue
                here = pending.get(nxt)
                if here is None:
                    here = pending[nxt] = {}
                    heapq.heappush(heap, nxt)
                key = (nstate, nr_end if nr_end > nxt or nstate == _IRI else -1)
                here[key] = max(here.get(key, 0), ndepth)
    return _Reading(_keep(text, code), _keep(text, kw), deepest)


def _step(
    text: str,
    n: int,
    pos: int,
    state: int,
    r_end: int,
    depth: int,
    code: bytearray,
    kw: bytearray,
    memo: list[int],
) -> list[tuple[int, int, int, int, int]]:
    """One step of one reading from `pos`: where it goes next (position, state, end of the
    `<…>` it reads as a comparison, depth after the step, deepest within it), marking what it
    reads as code."""
    if state == _IRI:  # r_end: where the IRI ends
        return [(r_end, _CODE, -1, depth, depth)]
    if state == _COMMENT:
        # Many readings may enter one long line's comment at different places: find its end once.
        if not memo[0] <= pos <= memo[1]:
            found = text.find("\n", pos)
            found_cr = text.find("\r", pos, found if found >= 0 else n)
            memo[0], memo[1] = pos, (found_cr if found_cr >= 0 else found if found >= 0 else n)
        return [(memo[1], _CODE, r_end, depth, depth)]
    if state != _CODE:
        end = _ENDS[state].match(text, pos)
        assert end is not None
        return [(end.end(), _CODE, r_end, depth, depth)]
    m = _CODE_STOP.search(text, pos)
    stop = m.start() if m else n
    inside = r_end > pos  # in a `<…>` read as a comparison: code, but no keyword starts here
    if inside:
        stop = min(stop, r_end)
    code[pos:stop] = b"\x01" * (stop - pos)
    if not inside:
        kw[pos:stop] = b"\x01" * (stop - pos)
    if stop >= n:
        return []
    if stop == r_end:
        return [(stop, _CODE, -1, depth, depth)]
    c = text[stop]
    code[stop] = 1
    if not inside:
        kw[stop] = 1
    if c == "#":
        return [(stop + 1, _COMMENT, r_end, depth, depth)]
    if c in "'\"":
        long = text.startswith(c * 3, stop)
        state = (_L1 if long else _S1) if c == "'" else (_L2 if long else _S2)
        return [(stop + (3 if long else 1), state, r_end, depth, depth)]
    if c == "\\":  # a prefixed name's escape (`ex:a\#b`): the next character belongs to the name
        code[stop + 1 : stop + 2] = b"\x01"
        return [(stop + 2, _CODE, r_end, depth, depth)]
    if c in "([{":
        return [(stop + 1, _CODE, r_end, depth + 1, depth + 1)]
    if c in ")]}":
        return [(stop + 1, _CODE, r_end, max(depth - 1, 0), depth)]
    if c == "!":
        # Unary `!` nests in the engine's parser as a bracket does (`!!!…!true` overflows it).
        bangs = _BANGS.match(text, stop)
        if bangs is None or bangs.end() == stop:  # `!=`
            return [(stop + 1, _CODE, r_end, depth, depth)]
        return [(bangs.end(), _CODE, r_end, depth, depth + bangs.group().count("!"))]
    # c == "<": an IRI, or a comparison (and then its inside is code)
    iri = _IRI_AT.match(text, stop)
    if iri is None:
        return [(stop + 1, _CODE, r_end, depth, depth)]
    if not any(ch in "'#\\!([" for ch in text[stop + 1 : iri.end() - 1]):
        # Read as code, such an inside starts no string, comment or nesting: both readings meet
        # again after the `>`, and it is no code a keyword could start in.
        code[stop + 1 : iri.end() - 1] = b"\x01" * (iri.end() - 1 - stop - 1)
        return [(iri.end(), _CODE, r_end, depth, depth)]
    return [(stop, _IRI, iri.end(), depth, depth), (stop + 1, _CODE, iri.end() - 1, depth, depth)]


_FORBIDDEN = re.compile(r"(?<![\w:?$])(SERVICE|LOAD)(?![\w:])", re.I)

SELECT_FORMATS = {
    "json": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "xml": (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
    "csv": (ox.QueryResultsFormat.CSV, "text/csv"),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values"),
}
GRAPH_FORMATS = {
    "turtle": (ox.RdfFormat.TURTLE, "text/turtle"),
    "ntriples": (ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "nquads": (ox.RdfFormat.N_QUADS, "application/n-quads"),
    "trig": (ox.RdfFormat.TRIG, "application/trig"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json"),
    "rdfxml": (ox.RdfFormat.RDF_XML, "application/rdf+xml"),
}
_RDFLIB_RESULTS = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}
_RDFLIB_GRAPH = {
    "turtle": "turtle",
    "ntriples": "nt",
    "nquads": "nquads",
    "trig": "trig",
    "jsonld": "json-ld",
    "rdfxml": "xml",
}


MAX_NESTING = 200


@functools.lru_cache(maxsize=256)
def _read_short(text: str) -> _Reading:
    return _read(text)


def _reading(text: str) -> _Reading:
    """The checks' reading of a text; a short text asked again (the common case behind an HTTP
    endpoint) is read once."""
    return _read_short(text) if len(text) <= 4096 else _read(text)


def refuse_unsafe(text: str, what: str = "query") -> None:
    """Refuse SERVICE and LOAD, which would make the engine read a URL or a file, and nesting so
    deep that the engine's recursive parser would overflow its stack (and kill the process), in
    any reading of the text the engine could make (`_read`)."""
    reading = _reading(text)
    if reading.depth > MAX_NESTING:
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"the {what} nests brackets (or `!`) {reading.depth} levels deep; at most {MAX_NESTING} allowed",
        )
    m = _FORBIDDEN.search(reading.keywords)
    if m:
        keyword = m.group(1).upper()
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"{keyword} is refused: a {what} may not read remote endpoints, URLs or files",
            detail={"keyword": keyword, "position": m.start()},
        )


@dataclass(frozen=True)
class Answer:
    """A serialized query answer: its kind, bytes and media type; `truncated` is the row limit
    when the solutions were cut there."""

    kind: ResultKind
    body: bytes
    media_type: str
    truncated: int | None = None


def answer(
    store: Store,
    query: str,
    fmt: str | None = None,
    default_graphs: list[str] | None = None,
    named_graphs: list[str] | None = None,
    max_rows: int | None = None,
    timeout: float | None = None,
) -> Answer:
    """Evaluate `query` on the store's native engine and serialize it with the engine's writer.

    `fmt` names a results format (json, xml, csv, tsv) for SELECT/ASK or an RDF format for
    CONSTRUCT/DESCRIBE; None picks JSON or Turtle. default/named graphs follow the protocol's
    default-graph-uri and named-graph-uri (given, they make the whole dataset: a missing one is
    empty); without them the query's FROM / FROM NAMED, else the store's dataset (the merge).
    Solutions past `max_rows` are cut, and the answer says so (`Answer.truncated`). On the
    `sparql:` backend the server's own answer is passed through, bytes unchanged.
    """
    refuse_unsafe(query)
    defaults: list[str] | None = None
    named: list[str] | None = None
    if default_graphs or named_graphs:
        defaults, named = _iris(default_graphs or []), _iris(named_graphs or [])
    if store.remote is not None:
        return _answer_remote(store, query, fmt, defaults, named, timeout, max_rows)
    native = store.oxigraph
    if native is not None:
        return _answer_oxigraph(store, native, query, fmt, defaults, named, max_rows)
    if defaults is not None or named is not None:
        # rdflib takes no dataset beside the query's own: the same layout in pyoxigraph answers.
        return _answer_oxigraph(None, memory_copy(store), query, fmt, defaults, named, max_rows)
    return _answer_rdflib(store, query, fmt, max_rows)


def _iris(values: list[str]) -> list[str]:
    for v in values:
        try:
            ox.NamedNode(v)
        except ValueError:
            raise PactgraphError(Kind.BAD_INPUT, f"not an absolute IRI: {v[:200]!r}") from None
    return values


def memory_copy(store: Store) -> ox.Store:
    """A `memory:` store's data as an in-memory pyoxigraph store laid out as `oxigraph:` is
    (every graph as it is, the merge in the default graph)."""
    copy = ox.Store()
    default = ox.DefaultGraph()
    for q in store.match():
        copy.add(q)
        copy.add(ox.Quad(q.subject, q.predicate, q.object, default))
    return copy


_FROM = re.compile(r"(?<![\w:?$])FROM(\s+NAMED)?\s+(<_*>|[^\s{]*:[^\s{]*)", re.I)
_FORM_AT = re.compile(r"(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", re.I)


def _dataset_clauses(query: str) -> tuple[list[str], list[str]] | None:
    """The IRIs of the query's FROM and FROM NAMED clauses (resolved), None when it has none."""
    code = masked(query)
    found = list(_FROM.finditer(code))
    if not found:
        return None
    form = _FORM_AT.search(code)
    prologue = query[: form.start()] if form else ""
    defaults: list[str] = []
    named: list[str] = []
    for m in found:
        iri = resolve_iri(prologue, query[m.start(2) : m.end(2)])
        (named if m.group(1) else defaults).append(iri)
    return defaults, named


@functools.lru_cache(maxsize=1024)
def resolve_iri(prologue: str, written: str) -> str:
    """An IRI as written in a query or update (`<…>` or a prefixed name), made absolute by the
    engine with the prologue (and the predeclared prefixes) in force."""
    try:
        solutions = _EMPTY.query(
            f"{prologue}\nSELECT ?iri WHERE {{ BIND({written} AS ?iri) }}", prefixes=PREFIXES
        )
    except SyntaxError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"bad IRI {written!r}: {exc}") from exc
    assert isinstance(solutions, ox.QuerySolutions)
    value = next(iter(solutions))["iri"]
    if not isinstance(value, ox.NamedNode):
        raise PactgraphError(Kind.BAD_INPUT, f"bad IRI {written!r}")
    return value.value


_EMPTY = ox.Store()


def dataset_query(
    store: Store | None,
    native: ox.Store,
    query: str,
    defaults: list[str] | None,
    named: list[str] | None,
    **extra: Any,
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Run a query on a pyoxigraph store laid out as pactgraph's (the merge in the default graph,
    the store's own default graph in DEFAULT_GRAPH) over a dataset. `defaults` / `named` None:
    the query's own FROM / FROM NAMED if it has any, else the store's (the merge, and every
    named graph but DEFAULT_GRAPH); lists: exactly those graphs. A default graph of two or more
    graphs is their merge, made in an in-memory copy. `store` (when `native` is its handle)
    lends its cached list of graphs. Raises the engine's SyntaxError / RuntimeError / OSError."""
    if defaults is None and named is None:
        clauses = _dataset_clauses(query)
        if clauses is not None:
            if len(clauses[0]) < 2:
                return native.query(query, **extra)  # the engine takes the query's own dataset
            defaults, named = clauses
    if defaults is not None and len(defaults) > 1:
        return _merged(
            native, query, defaults, named if named is not None else _visible(store, native), **extra
        )
    kwargs: dict[str, Any] = dict(extra)
    if defaults is not None:
        kwargs["default_graph"] = [_graph_term(g) for g in defaults]
    if named is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in named]
    elif native.contains_named_graph(_HIDDEN):
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in _visible(store, native)]
    return native.query(query, **kwargs)


_HIDDEN = ox.NamedNode(str(DEFAULT_GRAPH))


def _graph_term(iri: str) -> ox.NamedNode | ox.DefaultGraph:
    """A graph named by the protocol or FROM. MERGE_GRAPH names the merge, which Oxigraph keeps in
    its default graph: a `sparql:` store over another pactgraph asks for it by that name."""
    return ox.DefaultGraph() if iri == str(MERGE_GRAPH) else ox.NamedNode(iri)


def _visible(store: Store | None, native: ox.Store) -> list[str]:
    if store is not None:
        return [g.value for g in store.visible_graphs()]
    return [g.value for g in native.named_graphs() if isinstance(g, ox.NamedNode) and visible_graph(g.value)]


def _merged(
    native: ox.Store, query: str, defaults: list[str], named: list[str], **extra: Any
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """A default graph made of several graphs, as their merge: copied into an in-memory store's
    default graph (a set), with the named graphs beside it."""
    copy = ox.Store()
    default = ox.DefaultGraph()
    for g in defaults:
        copy.extend(
            ox.Quad(q.subject, q.predicate, q.object, default)
            for q in native.quads_for_pattern(None, None, None, _graph_term(g))
        )
    for g in named:
        copy.extend(native.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    return copy.query(query, default_graph=default, named_graphs=[ox.NamedNode(g) for g in named], **extra)


def _evaluation_error(exc: Exception) -> PactgraphError:
    return PactgraphError(
        Kind.EVALUATION,
        f"the query is well formed but could not be evaluated (an evaluation error, not a syntax "
        f"error): {exc}",
        detail={"error": "evaluation"},
    )


def _syntax_error(exc: Exception) -> PactgraphError:
    return PactgraphError(
        Kind.BAD_INPUT, f"bad SPARQL query (syntax error): {exc}", detail={"error": "syntax"}
    )


def _answer_oxigraph(
    store: Store | None,
    native: ox.Store,
    query: str,
    fmt: str | None,
    default_graphs: list[str] | None,
    named_graphs: list[str] | None,
    max_rows: int | None,
) -> Answer:
    try:
        result = dataset_query(store, native, query, default_graphs, named_graphs, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise _syntax_error(exc) from exc
    except (RuntimeError, OSError, ValueError) as exc:
        raise _evaluation_error(exc) from exc
    try:
        return _serialize(result, query, fmt, max_rows)
    except (RuntimeError, OSError, ValueError) as exc:  # an error met while the solutions are made
        raise _evaluation_error(exc) from exc


def _serialize(
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples,
    query: str,
    fmt: str | None,
    max_rows: int | None,
) -> Answer:
    """The engine's result in the asked format. The row limit is counted on what the engine
    produces, whatever the query's text says (a LIMIT the text seems to end with may be in a
    comment, a string or a subquery): solutions go through TSV, triples through N-Triples, both
    one line per row, into a sink that stops the engine's writer past the limit; the engine
    then writes the asked format from those lines (a parse and a write, cheap next to the
    evaluation, and the rest of a huge result is never produced)."""
    if isinstance(result, ox.QueryTriples):
        return _graph_answer(result, fmt, max_rows)
    name = _results_name(pick_format(fmt, "select"))
    rfmt, media = SELECT_FORMATS[name]
    if isinstance(result, ox.QueryBoolean):
        return Answer("ask", result.serialize(format=rfmt) or b"", media)
    if max_rows is None:
        return Answer("select", result.serialize(format=rfmt) or b"", media)
    tsv = _upto(result, ox.QueryResultsFormat.TSV, max_rows + 1)  # the header is a line
    truncated = None
    if tsv.count(b"\n") - 1 > max_rows:
        tsv = tsv[: _line_end(tsv, max_rows + 1) + 1]
        truncated = max_rows
    if name == "tsv":
        body = tsv
    else:
        body = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=rfmt) or b""
    return Answer("select", _mark(body, name, truncated), media, truncated)


def _graph_answer(result: ox.QueryTriples, fmt: str | None, max_rows: int | None) -> Answer:
    """A CONSTRUCT/DESCRIBE answer, cut at `max_rows` triples as solutions are."""
    name = _graph_name(pick_format(fmt, "graph"))
    gfmt, media = GRAPH_FORMATS[name]
    if max_rows is None:
        return Answer("graph", result.serialize(format=gfmt) or b"", media)
    nt = _upto(result, ox.RdfFormat.N_TRIPLES, max_rows)
    truncated = None
    if nt.count(b"\n") > max_rows:
        nt = nt[: _line_end(nt, max_rows) + 1]
        truncated = max_rows
    if name == "ntriples":
        body = nt
    else:
        body = ox.serialize(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES), format=gfmt) or b""
    return Answer("graph", _mark(body, name, truncated), media, truncated)


_SPLIT = "\x1e"


def both_formats(results: str | None, graph: str | None) -> str:
    """One `fmt` for `answer` that names a format for each kind of answer (solutions or a
    boolean; a graph), so that the engine's own result decides which is used: what the text
    seems to ask is not trusted. None: that kind of answer is not acceptable (406)."""
    return f"{results or ''}{_SPLIT}{graph or ''}"


def pick_format(fmt: str | None, kind: ResultKind) -> str | None:
    """The format name `fmt` gives for an answer of `kind` (see both_formats)."""
    if fmt is None or _SPLIT not in fmt:
        return fmt
    results, graph = fmt.split(_SPLIT, 1)
    name = graph if kind == "graph" else results
    if not name:
        what = "a graph (CONSTRUCT/DESCRIBE)" if kind == "graph" else "solutions or a boolean"
        offered = GRAPH_FORMATS if kind == "graph" else SELECT_FORMATS
        raise PactgraphError(
            Kind.NOT_ACCEPTABLE,
            f"the query answers with {what}, which none of the accepted media types or format= "
            f"can carry; ask for one of {', '.join(offered)}",
        )
    return name


_READ_FOR_VOLATILE = 65536
_VOLATILE_WORD = re.compile(r"(?<![\w:?$])(NOW|RAND|UUID|STRUUID|BNODE)(?![\w:])", re.I)
_VOLATILE = re.compile(r"(?<![\w:?$])(NOW|RAND|UUID|STRUUID|BNODE)\s*\(", re.I)


def is_volatile(query: str) -> bool:
    """Whether the query's answer may change without the data changing (NOW(), RAND(), UUID(),
    STRUUID(), BNODE(...)): such answers are not worth keeping for the next asker."""
    if len(query) > _READ_FOR_VOLATILE:
        # A long text: any mention of such a word, in code or not, keeps the answer out of the
        # cache (a superset, linear in the text; the full reading of an adversarial megabyte
        # costs seconds, which the cache decision is not worth).
        return _VOLATILE_WORD.search(query) is not None
    return _VOLATILE.search(_reading(query).code) is not None


def _answer_remote(
    store: Store,
    query: str,
    fmt: str | None,
    default_graphs: list[str] | None,
    named_graphs: list[str] | None,
    timeout: float | None,
    max_rows: int | None = None,
) -> Answer:
    remote = store.remote
    assert remote is not None
    kind = query_form(query)
    fmt = pick_format(fmt, kind)
    name = _graph_name(fmt) if kind == "graph" else _results_name(fmt)
    media = (GRAPH_FORMATS[name] if kind == "graph" else SELECT_FORMATS[name])[1]
    text = with_prefixes(query)
    if default_graphs is None and named_graphs is None:
        # The query's own FROM / FROM NAMED go as the protocol's parameters: some servers (Oxigraph's
        # --union-default-graph) let their union override a query's dataset, never the protocol's.
        clauses = _dataset_clauses(query)
        if clauses is None:
            default_graphs, named_graphs = store.remote_dataset(query)
        else:
            default_graphs, named_graphs = clauses
    if default_graphs is not None and len(default_graphs) > 1:
        # Servers match a triple once per default graph (a bag); the merge is made here instead.
        named = named_graphs or []
        copy = _fetched(store, default_graphs, named)
        return _answer_oxigraph(None, copy, query, fmt, [str(MERGE_GRAPH)], named, max_rows)
    if default_graphs is not None and named_graphs is not None:
        # The protocol's dataset is exactly what it names; servers read a missing parameter as
        # "the service's default" instead, so an empty part is named by a graph nobody writes.
        default_graphs = default_graphs or [_NO_GRAPH]
        named_graphs = named_graphs or [_NO_GRAPH]
    response = remote.query(text, media, default_graphs, named_graphs, timeout)
    return Answer(kind, response.content, response.headers.get("content-type", media).split(";")[0].strip())


def _fetched(store: Store, defaults: list[str], named: list[str]) -> ox.Store:
    """Graphs of a `sparql:` server copied into an in-memory store: the merge of `defaults` as its
    default graph, `named` beside it (and nothing else, so the query's own dataset is these)."""
    copy = ox.Store()
    default = ox.DefaultGraph()
    for g in defaults:
        copy.extend(
            ox.Quad(q.subject, q.predicate, q.object, default) for q in store.match(graph=ox.NamedNode(g))
        )
    for g in named:
        copy.extend(store.match(graph=ox.NamedNode(g)))
        copy.add_graph(ox.NamedNode(g))
    return copy


_NO_GRAPH = "urn:pactgraph:no-graph"
_PNAME_USE = re.compile(r"(?<![\w:?$])([A-Za-z][\w.-]*)?:")
_DECLARED = re.compile(r"(?<![\w:?$])PREFIX\s+([A-Za-z][\w.-]*)?:", re.I)


def with_prefixes(query: str) -> str:
    """The query with PREFIX lines for the predeclared prefixes it uses and does not declare (for
    servers that know nothing of them), on one line before it."""
    code = masked(query)
    used = {m.group(1) or "" for m in _PNAME_USE.finditer(code)}
    declared = {m.group(1) or "" for m in _DECLARED.finditer(code)}
    missing = [p for p in PREFIXES if p in used and p not in declared]
    if not missing:
        return query
    return " ".join(f"PREFIX {p}: <{PREFIXES[p]}>" for p in missing) + "\n" + query


class _Enough(Exception):
    """Raised from inside the engine's writer once it has written the lines we keep."""


class _LineCap:
    """A sink for the engine's TSV writer that stops it after `cap` lines, so a result of
    millions of rows is never produced (nor held in memory) past the row limit. (A plain
    object with `write`: the engine only calls that, and io.RawIOBase's machinery costs.)"""

    __slots__ = ("cap", "lines", "parts")

    def __init__(self, cap: int | None) -> None:
        self.parts: list[bytes] = []
        self.lines = 0
        self.cap = cap

    def write(self, b: Any) -> int:
        chunk = bytes(b)
        self.parts.append(chunk)
        self.lines += chunk.count(b"\n")
        if self.cap is not None and self.lines > self.cap:
            raise _Enough
        return len(chunk)

    def flush(self) -> None:
        return None


def _upto(result: ox.QuerySolutions | ox.QueryTriples, fmt: Any, lines: int) -> bytes:
    """The result in a line-per-row format (TSV, N-Triples), stopping soon after `lines` + 1
    lines: the engine's writer is stopped there, so the rest is never produced."""
    sink = _LineCap(lines + 1)
    with contextlib.suppress(_Enough):
        result.serialize(cast("IO[bytes]", sink), format=fmt)
    return b"".join(sink.parts) or (b"\n" if fmt == ox.QueryResultsFormat.TSV else b"")


def _line_end(data: bytes, n: int) -> int:
    """Index of the n-th newline (1-based)."""
    at = -1
    for _ in range(n):
        at = data.index(b"\n", at + 1)
    return at


def _mark(body: bytes, name: str, truncated: int | None) -> bytes:
    """Say inside the document, where its format allows, that the solutions were cut."""
    if truncated is None:
        return body
    rows = "triples" if name in GRAPH_FORMATS else "rows"
    note = f"cut at {truncated} {rows} (PACTGRAPH_MAX_ROWS); add LIMIT/OFFSET to page through the rest"
    if name in ("turtle", "trig", "ntriples", "nquads"):
        return b"# " + note.encode() + b"\n" + body
    if name == "json" and body.startswith(b"{"):
        return (
            b'{"truncated":{"max_rows":'
            + str(truncated).encode()
            + b',"message":"'
            + note.encode()
            + b'"},'
            + body[1:]
        )
    if name in ("xml", "rdfxml") and b"?>" in body[:100]:
        head, _, rest = body.partition(b"?>")
        return head + b"?><!-- " + note.encode() + b" -->" + rest
    return body


def _answer_rdflib(store: Store, query: str, fmt: str | None, max_rows: int | None) -> Answer:
    try:
        result = store.dataset.query(query, initNs=PREFIXES)
    except SyntaxError as exc:
        raise _syntax_error(exc) from exc
    except Exception as exc:
        if type(exc).__name__ in ("ParseException", "ParseSyntaxException"):
            raise _syntax_error(exc) from exc
        raise _evaluation_error(exc) from exc
    try:
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            gname = _graph_name(pick_format(fmt, "graph"))
            graph = result.graph
            assert graph is not None
            cut = None
            if max_rows is not None and len(graph) > max_rows:
                kept = type(graph)()
                for triple in itertools.islice(graph, max_rows):
                    kept.add(triple)
                graph, cut = kept, max_rows
            body = graph.serialize(format=_RDFLIB_GRAPH[gname], encoding="utf-8")
            return Answer("graph", _mark(body, gname, cut), GRAPH_FORMATS[gname][1], cut)
        name = _results_name(pick_format(fmt, "select"))
        truncated = None
        if result.type == "SELECT" and max_rows is not None:
            rows = list(result)
            if len(rows) > max_rows:
                result.bindings = [dict(zip(result.vars or [], row, strict=False)) for row in rows[:max_rows]]  # type: ignore[arg-type]
                truncated = max_rows
        body = result.serialize(format=_RDFLIB_RESULTS[name], encoding="utf-8") or b""
    except PactgraphError:
        raise
    except Exception as exc:  # rdflib evaluates lazily: an error met while the solutions are made
        raise _evaluation_error(exc) from exc
    kind: ResultKind = "ask" if result.type == "ASK" else "select"
    return Answer(kind, _mark(body, name, truncated), SELECT_FORMATS[name][1], truncated)


def _results_name(fmt: str | None) -> str:
    name = (fmt or "json").lower()
    if name not in SELECT_FORMATS:
        raise PactgraphError(
            Kind.NOT_ACCEPTABLE,
            f"{name!r} is not a results format for SELECT/ASK; use {', '.join(SELECT_FORMATS)}",
        )
    return name


def _graph_name(fmt: str | None) -> str:
    name = (fmt or "turtle").lower()
    name = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "json-ld": "jsonld", "xml": "rdfxml"}.get(
        name, name
    )
    if name not in GRAPH_FORMATS:
        raise PactgraphError(
            Kind.NOT_ACCEPTABLE,
            f"{name!r} is not an RDF format for CONSTRUCT/DESCRIBE; use {', '.join(GRAPH_FORMATS)}",
        )
    return name


_PROLOGUE = re.compile(r"^\s*(?:(?:PREFIX\s+[\w.-]*:\s*|BASE\s+)\s*)*", re.I)
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.I)


def query_form(text: str) -> ResultKind:
    """Whether a query answers with solutions, a boolean or a graph, as its text reads (the CLI,
    the `sparql:` backend). The server's own answers follow the engine's result (both_formats)."""
    m = _FORM.search(masked(text))
    if not m:
        return "select"
    return {"SELECT": "select", "ASK": "ask"}.get(m.group(1).upper(), "graph")  # type: ignore[return-value]

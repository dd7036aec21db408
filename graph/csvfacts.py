"""The CSV layout for facts added by hand: one row per source, entity or fact, mapped to the ontology.

A header row names the columns, in any order; a column that is not one of `COLUMNS` is refused
(nothing is dropped silently), and a missing one is read as empty, so a file of the first
layout (``kind,subject,object,start,end,status,source,quote,detail``) still reads. Each kind
says what its columns mean (`KINDS`, and the README's table); a value in a column the kind does
not use is refused with its line and column, as is a missing required value, a date that is
not YYYY-MM-DD, YYYY-MM or YYYY, an unknown status or class. Ids are local (``state/RUS``,
``org/nato``) under the entity base, or full http(s) IRIs; several ids in one cell are
separated by spaces. Every id a row refers to is returned as a `Reference` with its line:
ingest refuses the batch when one is neither described in the batch nor in the store.

Facts (membership, tenure, sanction, support, arms, participation) are one node per row, whose
IRI is made from its content — kind, subject, object, start and its sources — never a row
number, so the same fact from another source is another node (the shared contract's "one
assertion per source"), linked to the first by `pg:readingOf` the relation they both read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import RDF, RDFS, SKOS, XSD, Literal, URIRef

from pactgraph.graph.dates import parse_period
from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.ontology import ENTITY_BASE, PG

DCTERMS = "http://purl.org/dc/terms/"
COLUMNS = (
    "kind",
    "id",
    "label",
    "subject",
    "object",
    "start",
    "end",
    "status",
    "source",
    "quote",
    "detail",
    "url",
    "lang",
)
"""Every column, in the template's order."""
STATUSES = {"confirmed": PG.Confirmed, "reported": PG.Reported, "disputed": PG.Disputed, "denied": PG.Denied}

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*(/[A-Za-z0-9_.%-]+)+$")
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_WIKIDATA = re.compile(r"^Q[1-9][0-9]*$")

Triple = tuple[URIRef, URIRef, URIRef | Literal]


@dataclass(frozen=True)
class Column:
    """What one column holds for one kind."""

    meaning: str
    required: bool = False


@dataclass(frozen=True)
class FactKind:
    """A kind of row: what each of its columns holds (the others must stay empty)."""

    name: str
    what: str
    columns: dict[str, Column]


def _c(meaning: str, required: bool = False) -> Column:
    return Column(meaning, required)


_ORGANISATIONS = {
    "organisation": PG.Organisation,
    "intergovernmental-organisation": PG.IntergovernmentalOrganisation,
    "alliance": PG.Alliance,
    "supranational-union": PG.SupranationalUnion,
    "government-agency": PG.GovernmentAgency,
    "media-outlet": PG.MediaOutlet,
    "armed-group": PG.ArmedGroup,
}
_AGREEMENTS = {
    "agreement": PG.Agreement,
    "treaty": PG.Treaty,
    "strategic-partnership": PG.StrategicPartnership,
    "defence-pact": PG.DefencePact,
}

_FACT_COLUMNS = {
    "start": _c("start date (pg:start)"),
    "end": _c("end date (pg:end), inclusive"),
    "status": _c("claim status: confirmed (default), reported, disputed or denied"),
    "source": _c("ids of the sources that state it (pg:source)", required=True),
    "quote": _c("the source's words that support it (pg:quote)"),
    "id": _c("the fact's own id, instead of one made from its content"),
    "label": _c("a name for the fact (rdfs:label)"),
    "lang": _c("language of label, quote and text details (default en)"),
}

KINDS: dict[str, FactKind] = {
    k.name: k
    for k in (
        FactKind(
            "source",
            "a document facts come from (pg:Source)",
            {
                "id": _c("its id, e.g. source/ap-2024-05-20", required=True),
                "label": _c("its title (dcterms:title)", required=True),
                "detail": _c("its publisher's name (dcterms:publisher)", required=True),
                "start": _c("its publication date (dcterms:date): undated facts are known from it"),
                "url": _c("where it can be read (pg:url)"),
                "subject": _c("id of the outlet that published it (pg:publishedBy)"),
                "source": _c("ids of the sources it cites (pg:cites)"),
                "lang": _c("language of title and publisher (default en)"),
            },
        ),
        FactKind(
            "person",
            "a person (pg:Person)",
            {
                "id": _c("its id, e.g. person/kim-jong-un", required=True),
                "label": _c("name, then other names after ' | ' (rdfs:label, skos:altLabel)", required=True),
                "detail": _c("Wikidata id, e.g. Q56226 (pg:wikidataId)"),
                "source": _c("ids of the sources that describe the person (pg:source)"),
                "lang": _c("language of the names (default en)"),
            },
        ),
        FactKind(
            "organisation",
            "an organisation (pg:Organisation or a subclass)",
            {
                "id": _c("its id, e.g. org/kcna", required=True),
                "label": _c("name, then other names after ' | '", required=True),
                "detail": _c("its class: " + ", ".join(_ORGANISATIONS) + " (default organisation)"),
                "subject": _c("id of the state it is based in (pg:basedIn)"),
                "start": _c("when it was founded (pg:founded)"),
                "source": _c("ids of the sources that describe it (pg:source)"),
                "lang": _c("language of the names (default en)"),
            },
        ),
        FactKind(
            "office",
            "a public office (pg:Office)",
            {
                "id": _c("its id, e.g. office/supreme-leader-of-iran", required=True),
                "label": _c("name, then other names after ' | '", required=True),
                "subject": _c("id of the state or organisation it belongs to (pg:officeOf)", required=True),
                "detail": _c("Wikidata id (pg:wikidataId)"),
                "source": _c("ids of the sources that describe it (pg:source)"),
                "lang": _c("language of the names (default en)"),
            },
        ),
        FactKind(
            "agreement",
            "an agreement with its parties and signers (pg:Agreement or a subclass)",
            {
                "id": _c("its id, e.g. agreement/russia-dprk-cspa-2024", required=True),
                "label": _c("name, then other names after ' | '", required=True),
                "detail": _c("its class: " + ", ".join(_AGREEMENTS) + " (default agreement)"),
                "subject": _c("ids of its parties (pg:signatory), two or more", required=True),
                "object": _c("ids of the persons who signed it (pg:signedBy)"),
                "start": _c("signing date (pg:signingDate)", required=True),
                "end": _c("expiry (pg:expiry)"),
                "status": _FACT_COLUMNS["status"],
                "source": _FACT_COLUMNS["source"],
                "quote": _FACT_COLUMNS["quote"],
                "lang": _FACT_COLUMNS["lang"],
            },
        ),
        FactKind(
            "signature",
            "one more party to an agreement described elsewhere (the first layout's row)",
            {
                "subject": _c("id of the party (pg:signatory)", required=True),
                "object": _c("id of the agreement", required=True),
                "start": _c("signing date (pg:signingDate)"),
                "detail": _c("id of the person who signed for the party (pg:signedBy)"),
                "status": _c("the agreement's claim status"),
                "source": _c("ids of the sources that state it (pg:source of the agreement)"),
                "quote": _FACT_COLUMNS["quote"],
                "lang": _FACT_COLUMNS["lang"],
            },
        ),
        FactKind(
            "membership",
            "an actor's membership of an organisation (pg:Membership)",
            {
                **_FACT_COLUMNS,
                "subject": _c("id of the member (pg:member)", required=True),
                "object": _c("id of the organisation (pg:organisation)", required=True),
                "detail": _c("a note (rdfs:comment)"),
            },
        ),
        FactKind(
            "tenure",
            "a person's holding of an office (pg:Tenure)",
            {
                **_FACT_COLUMNS,
                "subject": _c("id of the person (pg:holder)", required=True),
                "object": _c("id of the office (pg:office)", required=True),
                "detail": _c("a note (rdfs:comment)"),
            },
        ),
        FactKind(
            "sanction",
            "restrictive measures one actor imposes on another (pg:Sanction)",
            {
                **_FACT_COLUMNS,
                "subject": _c("id of the imposer (pg:imposer)", required=True),
                "object": _c("id of the target (pg:target)", required=True),
                "detail": _c("the programme or legal act (pg:programme)"),
            },
        ),
        FactKind(
            "support",
            "support of one actor for another (pg:Support)",
            {
                **_FACT_COLUMNS,
                "subject": _c("id of the supporter (pg:supporter)", required=True),
                "object": _c("id of the recipient (pg:recipient)", required=True),
                "detail": _c("the kind of support: military, political… (pg:supportKind)"),
            },
        ),
        FactKind(
            "arms",
            "a supply of weapons (pg:ArmsTransfer)",
            {
                **_FACT_COLUMNS,
                "subject": _c("id of the supplier (pg:supporter)", required=True),
                "object": _c("id of the recipient (pg:recipient)", required=True),
                "detail": _c("id of the item supplied (pg:item)", required=True),
            },
        ),
        FactKind(
            "participation",
            "an actor's part in a conflict (pg:Participation)",
            {
                **_FACT_COLUMNS,
                "subject": _c("id of the participant (pg:participant)", required=True),
                "object": _c("id of the conflict (pg:conflict)", required=True),
                "detail": _c("the side it is on (pg:side)"),
            },
        ),
        FactKind(
            "statement",
            "something a person said, with the quote (pg:Statement)",
            {
                "subject": _c("id of the speaker (pg:speaker)", required=True),
                "object": _c("ids of what it is about (pg:concerns)"),
                "start": _c("when it was said (pg:date)"),
                "quote": _c("the words said (pg:quote)", required=True),
                "detail": _c("id of the outlet that reported it (pg:reportedBy)"),
                "status": _FACT_COLUMNS["status"],
                "source": _FACT_COLUMNS["source"],
                "id": _c("its id, instead of one made from speaker, date and words"),
                "label": _c("a short summary (rdfs:label)"),
                "lang": _c("language of the quote and summary (default en)"),
            },
        ),
    )
}

# fact kind -> (class, subject property, object property)
_RELATIONS: dict[str, tuple[URIRef, URIRef, URIRef]] = {
    "membership": (PG.Membership, PG.member, PG.organisation),
    "tenure": (PG.Tenure, PG.holder, PG.office),
    "sanction": (PG.Sanction, PG.imposer, PG.target),
    "support": (PG.Support, PG.supporter, PG.recipient),
    "arms": (PG.ArmsTransfer, PG.supporter, PG.recipient),
    "participation": (PG.Participation, PG.participant, PG.conflict),
}


@dataclass(frozen=True)
class Reference:
    """An id a row refers to, and where: it must be described in the batch or the store."""

    iri: str
    where: str  # "facts.csv: line 3, column source"


@dataclass
class CsvFacts:
    """What one CSV file says: its triples and the ids its rows refer to."""

    triples: list[Triple] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


def entity(ref: str, where: str) -> URIRef:
    """An entity IRI from a local id (``state/RUS``) or an absolute http(s) IRI."""
    ref = ref.strip()
    if _URL.match(ref):
        return URIRef(ref)
    if _ID.match(ref):
        return URIRef(ENTITY_BASE + ref)
    raise PactgraphError(Kind.BAD_INPUT, f"{where}: {ref!r} is not an id like state/RUS or an http(s) IRI")


def local_id(ref: URIRef) -> str:
    """An IRI as its id under the entity base (``state/RUS``), or the IRI itself."""
    text = str(ref)
    return text[len(ENTITY_BASE) :] if text.startswith(ENTITY_BASE) else text


def _slug(ref: URIRef | str) -> str:
    text = str(ref)
    text = text[len(ENTITY_BASE) :] if text.startswith(ENTITY_BASE) else text.split("://", 1)[-1]
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def relation_key(kind: str, subject: URIRef, obj: URIRef) -> URIRef:
    """The relation a fact node reads (`pg:readingOf`): one IRI per kind and parties, whatever
    the dates or source, e.g. <…/id/relation/membership/state/POL/org/nato>."""
    parts = [kind] + [local_id(x) if str(x).startswith(ENTITY_BASE) else _slug(x) for x in (subject, obj)]
    return URIRef(ENTITY_BASE + "relation/" + "/".join(parts))


def fact_iri(kind: str, subject: URIRef, obj: URIRef, start: str | None, sources: list[URIRef]) -> URIRef:
    """A fact node's IRI from its content: kind, parties, start and the sources asserting it."""
    cited = "+".join(_slug(s).removeprefix("source-") for s in sorted(sources))
    tail = f"--{cited}" if cited else ""
    return URIRef(f"{ENTITY_BASE}{kind}/{_slug(subject)}--{_slug(obj)}--{start or 'undated'}{tail}")


def read_csv(data: bytes, name: str) -> CsvFacts:
    """The triples and references of every row of a facts CSV; errors name the file, line and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"{name}: not UTF-8 text ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or ()]
    if "kind" not in header:
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"{name}: line 1: the header must name the columns, among them kind (got {','.join(header)}); "
            f"the columns are {','.join(COLUMNS)}",
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or len(set(header)) != len(header):
        what = f"unknown column(s) {', '.join(unknown)}" if unknown else "a column named twice"
        raise PactgraphError(Kind.BAD_INPUT, f"{name}: line 1: {what}; the columns are {','.join(COLUMNS)}")
    reader.fieldnames = header
    out = CsvFacts()
    declared: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise PactgraphError(Kind.BAD_INPUT, f"{name}: line {line}: expected {len(header)} fields")
        cells = {c: (row.get(c) or "").strip() for c in COLUMNS}
        if not any(cells.values()):
            continue  # a blank line in a spreadsheet export
        _Row(cells, f"{name}: line {line}", out, declared, line).read()
    return out


class _Row:
    """One row: checked against its kind, turned into triples and references."""

    def __init__(self, cells: dict[str, str], where: str, out: CsvFacts, declared: dict[str, int], line: int):
        self.cells = cells
        self.where = where
        self.out = out
        self.declared = declared
        self.line = line
        self.lang = "en"

    def at(self, column: str) -> str:
        return f"{self.where}, column {column}"

    def fail(self, column: str, message: str) -> PactgraphError:
        return PactgraphError(Kind.BAD_INPUT, f"{self.at(column)}: {message}")

    def add(self, s: URIRef, p: URIRef, o: URIRef | Literal) -> None:
        self.out.triples.append((s, p, o))

    def ref(self, column: str, value: str | None = None) -> URIRef:
        """The id in `column` (or `value` read from it), recorded as a reference to check."""
        iri = entity(self.cells[column] if value is None else value, self.at(column))
        self.out.references.append(Reference(str(iri), self.at(column)))
        return iri

    def refs(self, column: str) -> list[URIRef]:
        return [self.ref(column, v) for v in self.cells[column].split()]

    def text(self, column: str) -> Literal:
        return Literal(self.cells[column], lang=self.lang)

    def date(self, column: str) -> Literal | None:
        if not self.cells[column]:
            return None
        try:
            return parse_period(self.cells[column]).literal()
        except PactgraphError as exc:
            raise self.fail(column, exc.message) from exc

    def status(self) -> URIRef:
        word = self.cells["status"].lower() or "confirmed"
        if word not in STATUSES:
            raise self.fail("status", f"{word!r} is not one of {', '.join(STATUSES)}")
        return STATUSES[word]

    def declare(self) -> URIRef:
        """The id a row describes (its `id` column), once per file."""
        iri = entity(self.cells["id"], self.at("id"))
        seen = self.declared.get(str(iri))
        if seen is not None:
            raise self.fail("id", f"{local_id(iri)} is already described on line {seen}")
        self.declared[str(iri)] = self.line
        return iri

    def names(self, node: URIRef) -> None:
        first, *others = [n.strip() for n in self.cells["label"].split(" | ") if n.strip()] or [""]
        self.add(node, RDFS.label, Literal(first, lang=self.lang))
        for alias in others:
            self.add(node, SKOS.altLabel, Literal(alias, lang=self.lang))

    def choice(self, column: str, options: dict[str, URIRef], default: str) -> URIRef:
        word = self.cells[column].lower() or default
        if word not in options:
            raise self.fail(column, f"{word!r} is not one of {', '.join(sorted(options))}")
        return options[word]

    def wikidata(self, node: URIRef) -> None:
        if value := self.cells["detail"]:
            if not _WIKIDATA.match(value):
                raise self.fail("detail", f"{value!r} is not a Wikidata id like Q56226")
            self.add(node, PG.wikidataId, Literal(value))

    def sources(self, node: URIRef) -> list[URIRef]:
        found = self.refs("source")
        for s in found:
            self.add(node, PG.source, s)
        return found

    def read(self) -> None:
        kind_word = self.cells["kind"].lower()
        kind = KINDS.get(kind_word)
        if kind is None:
            raise self.fail("kind", f"{kind_word!r} is not one of {', '.join(KINDS)}")
        for column in COLUMNS[1:]:
            spec = kind.columns.get(column)
            if spec is None and self.cells[column]:
                used = ", ".join(c for c in COLUMNS[1:] if c in kind.columns)
                raise self.fail(column, f"a {kind.name} row does not use this column (it uses {used})")
            if spec is not None and spec.required and not self.cells[column]:
                raise self.fail(column, f"a {kind.name} row needs {spec.meaning}")
            if column in ("start", "end"):
                self.date(column)  # a bad date is told before what the row lacks further on
        if lang := self.cells["lang"]:
            if not _LANG.match(lang):
                raise self.fail("lang", f"{lang!r} is not a language tag like en or ru")
            self.lang = lang
        _READERS[kind.name](self)


def _source(row: _Row) -> None:
    node = row.declare()
    row.add(node, RDF.type, PG.Source)
    row.add(node, RDFS.label, row.text("label"))
    row.add(node, URIRef(DCTERMS + "title"), row.text("label"))
    row.add(node, URIRef(DCTERMS + "publisher"), row.text("detail"))
    if (published := row.date("start")) is not None:
        row.add(node, URIRef(DCTERMS + "date"), published)
    if url := row.cells["url"]:
        if not _URL.match(url):
            raise row.fail("url", f"{url!r} is not an http(s) URL")
        row.add(node, PG.url, Literal(url, datatype=XSD.anyURI))
    if row.cells["subject"]:
        row.add(node, PG.publishedBy, row.ref("subject"))
    for cited in row.refs("source"):
        row.add(node, PG.cites, cited)


def _person(row: _Row) -> None:
    node = row.declare()
    row.add(node, RDF.type, PG.Person)
    row.names(node)
    row.wikidata(node)
    row.sources(node)


def _organisation(row: _Row) -> None:
    node = row.declare()
    row.add(node, RDF.type, row.choice("detail", _ORGANISATIONS, "organisation"))
    row.names(node)
    if row.cells["subject"]:
        row.add(node, PG.basedIn, row.ref("subject"))
    if (founded := row.date("start")) is not None:
        row.add(node, PG.founded, founded)
    row.sources(node)


def _office(row: _Row) -> None:
    node = row.declare()
    row.add(node, RDF.type, PG.Office)
    row.names(node)
    row.add(node, PG.officeOf, row.ref("subject"))
    row.wikidata(node)
    row.sources(node)


def _agreement(row: _Row) -> None:
    node = row.declare()
    row.add(node, RDF.type, row.choice("detail", _AGREEMENTS, "agreement"))
    row.names(node)
    for party in row.refs("subject"):
        row.add(node, PG.signatory, party)
    for signer in row.refs("object"):
        row.add(node, PG.signedBy, signer)
    signed = row.date("start")
    assert signed is not None  # required
    row.add(node, PG.signingDate, signed)
    if (expiry := row.date("end")) is not None:
        row.add(node, PG.expiry, expiry)
    row.add(node, PG.status, row.status())
    row.sources(node)
    if row.cells["quote"]:
        row.add(node, PG.quote, row.text("quote"))


def _signature(row: _Row) -> None:
    agreement = row.ref("object")
    row.add(agreement, PG.signatory, row.ref("subject"))
    if (signed := row.date("start")) is not None:
        row.add(agreement, PG.signingDate, signed)
    if row.cells["detail"]:
        row.add(agreement, PG.signedBy, row.ref("detail"))
    if row.cells["status"]:
        row.add(agreement, PG.status, row.status())
    row.sources(agreement)
    if row.cells["quote"]:
        row.add(agreement, PG.quote, row.text("quote"))


def _relation(row: _Row) -> None:
    kind = row.cells["kind"].lower()
    cls, subject_prop, object_prop = _RELATIONS[kind]
    subject, obj = row.ref("subject"), row.ref("object")
    start = row.date("start")
    sources = row.refs("source")
    if row.cells["id"]:
        node = row.declare()
    else:
        node = fact_iri(kind, subject, obj, str(start) if start is not None else None, sources)
        seen = row.declared.get(str(node))
        if seen is not None:
            raise row.fail("kind", f"the same {kind} from the same sources is already on line {seen}")
        row.declared[str(node)] = row.line
    row.add(node, RDF.type, cls)
    row.add(node, subject_prop, subject)
    row.add(node, object_prop, obj)
    if start is not None:
        row.add(node, PG.start, start)
    if (end := row.date("end")) is not None:
        row.add(node, PG.end, end)
    row.add(node, PG.status, row.status())
    for s in sources:
        row.add(node, PG.source, s)
    key = relation_key(kind, subject, obj)
    row.add(node, PG.readingOf, key)
    row.add(key, RDF.type, PG.RelationKey)
    if row.cells["label"]:
        row.add(node, RDFS.label, row.text("label"))
    if row.cells["quote"]:
        row.add(node, PG.quote, row.text("quote"))
    detail = row.cells["detail"]
    if not detail:
        return
    if kind == "arms":
        row.add(node, PG.item, row.ref("detail"))
    elif kind in ("membership", "tenure"):
        row.add(node, RDFS.comment, row.text("detail"))
    elif kind == "sanction":
        row.add(node, PG.programme, row.text("detail"))
    elif kind == "support":
        row.add(node, PG.supportKind, Literal(detail))
    else:
        row.add(node, PG.side, Literal(detail))


def _statement(row: _Row) -> None:
    speaker = row.ref("subject")
    said = row.date("start")
    if row.cells["id"]:
        node = row.declare()
    else:
        words = re.sub(r"[^a-z0-9]+", "-", (row.cells["label"] or row.cells["quote"]).lower()).strip("-")
        short = "-".join(words.split("-")[:8]) or "statement"
        node = URIRef(f"{ENTITY_BASE}statement/{_slug(speaker)}/{said or 'undated'}/{short}")
        seen = row.declared.get(str(node))
        if seen is not None:
            raise row.fail("quote", f"the same statement is already on line {seen}; give each an id")
        row.declared[str(node)] = row.line
    row.add(node, RDF.type, PG.Statement)
    row.add(node, PG.speaker, speaker)
    for about in row.refs("object"):
        row.add(node, PG.concerns, about)
    if said is not None:
        row.add(node, PG.date, said)
    row.add(node, PG.quote, row.text("quote"))
    if row.cells["detail"]:
        row.add(node, PG.reportedBy, row.ref("detail"))
    if row.cells["label"]:
        row.add(node, RDFS.label, row.text("label"))
    row.add(node, PG.status, row.status())
    row.sources(node)


_READERS: dict[str, Callable[[_Row], None]] = {
    "source": _source,
    "person": _person,
    "organisation": _organisation,
    "office": _office,
    "agreement": _agreement,
    "signature": _signature,
    "statement": _statement,
    **dict.fromkeys(_RELATIONS, _relation),
}


def layout() -> str:
    """The layout as text: each kind, and what each of its columns holds (for --help and docs)."""
    lines = [f"Columns: {','.join(COLUMNS)}"]
    for kind in KINDS.values():
        lines.append(f"\n{kind.name}: {kind.what}")
        for column in COLUMNS[1:]:
            spec = kind.columns.get(column)
            if spec is not None:
                lines.append(f"  {column:<8}{spec.meaning}{' (required)' if spec.required else ''}")
    return "\n".join(lines)

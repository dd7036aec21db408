"""OpenSanctions' FollowTheMoney export (`entities.ftm.json`: one entity per line), read with the
`followthemoney` library: its Sanction entities (authority, programme, listing and start/end
dates) and the persons, organisations and states they list.

Each Sanction entity becomes a pg:SanctionListing: imposed by the authority's country (`country`:
a state by its ISO code, "eu" the European Union) or, for a listing of the United Nations, the
UN; its target the listed entity. Listed entities are linked to entities already in the store
where they match: by Wikidata id, else by one exact name (folded) of a state, a person (for
Person) or an organisation (for organisations) — and otherwise described in the release's graph.
What is not written is counted in the import's notes: entities no Sanction lists (addresses,
identifications…) and listings of things that are no actor (vessels, aircraft).

Date rule: FtM dates keep their precision (a day, a month or a year). A listing counts from its
`startDate`, else its `listingDate`, else the day OpenSanctions first saw it (`first_seen`); an
`endDate` ends it (inclusive); a listing without one was in force when the export was made:
ongoing as of the day it was last seen (`last_seen`, else the export's latest date).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib.namespace import SKOS

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowError,
    RowSink,
    SourceDescription,
    Triples,
    slug,
)
from pactgraph.graph.importers.parties import BUNDLED_ORGS, describe_org, unmatched
from pactgraph.graph.importers.states import StateRef, describe_state, state_codes
from pactgraph.graph.store import Store
from pactgraph.ontology import ENTITY_BASE, PG

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?")
_ORG_SCHEMATA = ("Organization", "Company", "PublicBody", "LegalEntity")


@dataclass
class Entity:
    line: int
    id: str
    schema: str
    names: list[str]
    props: dict[str, list[str]]
    first_seen: str | None
    last_seen: str | None


@dataclass
class Records:
    entities: dict[str, Entity] = field(default_factory=dict)
    sanctions: list[Entity] = field(default_factory=list)
    file: str = ""
    latest: str | None = None
    digest: str = ""

    def __len__(self) -> int:
        return len(self.entities) + len(self.sanctions)


def _day(text: str | None) -> str | None:
    """An FtM date or timestamp as YYYY, YYYY-MM or YYYY-MM-DD (its precision kept)."""
    if not text:
        return None
    m = _DATE.match(text.strip())
    return m.group(0) if m else None


NEEDS_FTM = (
    "the opensanctions importer reads FtM with the followthemoney library, an optional extra: "
    "pip install 'pactgraph[opensanctions]' (it builds PyICU, which needs ICU's headers: "
    "apt-get install libicu-dev pkg-config)"
)


def _require_ftm() -> None:
    """followthemoney is an optional extra: its PyICU dependency compiles against ICU's headers,
    which a machine with only Python and pip lacks, so the core install must not need it."""
    try:
        import followthemoney  # noqa: F401
    except ImportError as exc:
        raise PactgraphError(Kind.UNAVAILABLE, NEEDS_FTM) from exc


def _parse(line: int, text: str) -> Entity:
    from followthemoney import model
    from followthemoney.exc import FollowTheMoneyException

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRow(f"not JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(data, dict) or "schema" not in data or "id" not in data:
        raise BadRow("not a FollowTheMoney entity (an object with id, schema and properties)")
    try:
        proxy = model.get_proxy(data, cleaned=False)
    except FollowTheMoneyException as exc:  # an unknown schema or property
        raise BadRow(f"not a valid FollowTheMoney entity: {exc}") from exc
    if proxy.id is None:
        raise BadRow("the entity has no id")
    props = {name: proxy.get(name) for name in proxy.properties}
    names = [proxy.caption] if proxy.caption else []
    names += [n for n in proxy.get("name", quiet=True) if n not in names]
    return Entity(
        line,
        proxy.id,
        proxy.schema.name,
        names,
        props,
        _day(data.get("first_seen")),
        _day(data.get("last_seen")),
    )


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> Records:
    _require_ftm()
    out = Records()
    digest = hashlib.sha256()
    ids: set[str] = set()
    for f in files:
        try:
            text = f.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PactgraphError(
                Kind.BAD_INPUT, f"{f.name}: not an OpenSanctions FtM file: not UTF-8 text ({exc.reason})"
            ) from exc
        lines = text.splitlines()
        first = next((ln for ln in lines if ln.strip()), "")
        try:
            head = json.loads(first)
        except json.JSONDecodeError:
            head = None
        if not isinstance(head, dict) or "schema" not in head or "id" not in head:
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"{f.name}: not an OpenSanctions FtM file (entities.ftm.json): its first line is not a "
                "FollowTheMoney entity (a JSON object with id, schema and properties)",
                detail={
                    "file": f.name,
                    "dataset": "opensanctions",
                    "missing": ["id", "schema", "properties"],
                },
            )
        digest.update(f.data)
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                e = _parse(i + 1, raw)
            except BadRow as exc:
                bad(RowError(f.name, i + 1, str(exc)))
                continue
            if e.id in ids:
                bad(RowError(f.name, i + 1, f"entity {e.id} is given twice"))
                continue
            ids.add(e.id)
            for d in (e.last_seen, e.first_seen):
                if d and (out.latest is None or d > out.latest):
                    out.latest = d
            if e.schema == "Sanction":
                out.sanctions.append(e)
            else:
                out.entities[e.id] = e
            if progress and i % 500 == 0:
                progress(f"read {f.name}", i, len(lines))
        out.file = f.name
    for s in out.sanctions:
        listed = s.props.get("entity", [])
        if not listed:
            bad(RowError(out.file, s.line, f"Sanction {s.id} names no listed entity (entity)"))
        elif not any(x in out.entities for x in listed):
            bad(RowError(out.file, s.line, f"Sanction {s.id} lists {', '.join(listed)}, not in the file"))
    out.sanctions = [s for s in out.sanctions if any(x in out.entities for x in s.props.get("entity", []))]
    out.digest = digest.hexdigest()[:12]
    return out


def source(records: Records) -> SourceDescription:
    day = (records.latest or "")[:10]
    return SourceDescription(
        slug=f"opensanctions-{day or records.digest}",
        title="OpenSanctions (FollowTheMoney entities)",
        publisher="OpenSanctions Datenbanken GmbH",
        version=f"export of {day or 'an unknown date'} (sha256 {records.digest}…)",
        citation="OpenSanctions, https://www.opensanctions.org/ (data as exported in entities.ftm.json)",
        licence="https://creativecommons.org/licenses/by-nc/4.0/",
        download_url="https://www.opensanctions.org/datasets/default/",
        end_rule="inclusive",
        coverage_end=day if len(day) == 10 else None,
    )


def fold(text: str) -> str:
    """A name compared as written, without case, accents or punctuation."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).split())


@dataclass
class _Known:
    by_wikidata: dict[str, str] = field(default_factory=dict)
    by_name: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (kind, folded name) -> ids
    taken: set[str] = field(default_factory=set)


def _known(store: Store, graph: str) -> _Known:
    """Persons, organisations and states already in the store (outside this release's graph)."""
    out = _Known()
    kinds = {str(PG.Person): "person", str(PG.State): "state"}
    query = f"""
    SELECT ?n ?c ?name ?q WHERE {{
      GRAPH ?g {{ ?n a ?c }}
      FILTER(?g != <{graph}>)
      VALUES ?c {{ <{PG.Person}> <{PG.State}> <{PG.Organisation}> <{PG.IntergovernmentalOrganisation}>
                  <{PG.Alliance}> <{PG.SupranationalUnion}> <{PG.GovernmentAgency}> <{PG.ArmedGroup}>
                  <{PG.MediaOutlet}> }}
      OPTIONAL {{ ?n <http://www.w3.org/2000/01/rdf-schema#label>|<{SKOS.altLabel}> ?name }}
      OPTIONAL {{ ?n <{PG.wikidataId}> ?q }}
    }}"""
    for r in store.select(query):
        n = str(r["n"])
        out.taken.add(n)
        kind = kinds.get(str(r["c"]), "organisation")
        if r.get("name") is not None:
            out.by_name.setdefault((kind, fold(str(r["name"]))), set()).add(n)
        if r.get("q") is not None:
            out.by_wikidata[str(r["q"])] = n
    return out


def _state_by_alpha2(code: str) -> StateRef | None:
    import pycountry

    found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return state_codes().iso3(found.alpha_3) if found else None


def _build(store: Store, records: Records, t: Triples, result: ImportResult) -> list[dict[str, str]]:
    src = source(records)
    known = _known(store, src.graph)
    described: set[str] = set()
    orgs: set[str] = set()
    actors: set[str] = set()
    resolved: dict[str, str | None] = {}
    matched = Counter[str]()
    not_actors = Counter[str]()
    alt = t.node(str(SKOS.altLabel))

    def resolve(e: Entity) -> str | None:
        """The id of the pactgraph entity a listed FtM entity is (matched or new); None when it is
        no actor pactgraph models (a vessel, an aircraft)."""
        if e.id in resolved:
            return resolved[e.id]
        kind = "person" if e.schema == "Person" else "organisation" if e.schema in _ORG_SCHEMATA else None
        if e.schema == "Territory" or (kind is None and e.schema == "LegalEntity"):
            kind = "organisation"
        if kind is None:
            not_actors[e.schema] += 1
            resolved[e.id] = None
            return None
        found: str | None = None
        how = "Wikidata id"
        for q in e.props.get("wikidataId", []):
            found = found or known.by_wikidata.get(q)
        if found is None and e.schema == "Territory":
            how = "country code"
            for c in e.props.get("country", []):
                ref = _state_by_alpha2(c)
                found = found or (ref.iri if ref else None)
        if found is None:
            how = "name"
            for name in e.names:
                for k in ("state", kind):
                    hits = known.by_name.get((k, fold(name)), set())
                    if len(hits) == 1:
                        found = next(iter(hits))
                        break
                if found:
                    break
        if found is not None:
            matched[how] += 1
            for name in e.names:
                t.add(t.node(found), alt, ox.Literal(name, language="en"))
            resolved[e.id] = found.removeprefix(ENTITY_BASE)
            return resolved[e.id]
        base = "person" if kind == "person" else "org"
        local = f"{base}/{slug(e.names[0] if e.names else e.id)}"
        if ENTITY_BASE + local in known.taken:
            local = f"{local}-{slug(e.id)}"
        node = t.entity(local)
        t.a(
            node,
            "Person"
            if kind == "person"
            else "GovernmentAgency"
            if e.schema == "PublicBody"
            else "Organisation",
        )
        t.label(node, e.names[0] if e.names else e.id)
        for name in e.names[1:]:
            t.add(node, alt, ox.Literal(name, language="en"))
        for q in e.props.get("wikidataId", [])[:1]:
            if re.fullmatch(r"Q[1-9][0-9]*", q):
                t.text(node, "wikidataId", q)
        if kind == "person":
            for born in e.props.get("birthDate", [])[:1]:
                if d := _day(born):
                    t.date(node, "born", d)
        t.text(node, "recordId", e.id)
        resolved[e.id] = local
        return local

    def imposer(s: Entity) -> str:
        authority = ", ".join(s.props.get("authority", [])) or "an unnamed authority"
        for c in s.props.get("country", []):
            if c.lower() == "eu":
                describe_org(t, BUNDLED_ORGS["org/eu"], orgs)
                return "org/eu"
            ref = _state_by_alpha2(c)
            if ref is not None:
                describe_state(t, ref, described)
                return ref.local
        if "united nations" in authority.lower():
            describe_org(t, BUNDLED_ORGS["org/un"], orgs)
            return "org/un"
        return unmatched(
            t,
            src.slug,
            authority,
            authority,
            f"OpenSanctions names the listing authority {authority!r}.",
            actors,
        )

    listed: set[str] = set()
    for s in records.sanctions:
        targets = [x for x in s.props.get("entity", []) if x in records.entities]
        listed.update(targets)
        target_ids = [tid for tid in (resolve(records.entities[x]) for x in targets) if tid]
        if not target_ids:
            continue
        start = (
            _day(next(iter(s.props.get("startDate", []) + s.props.get("listingDate", [])), None))
            or s.first_seen
        )
        if start is None:
            result.notes.append(
                f"line {s.line}: Sanction {s.id} has no start, listing or first-seen date: not written"
            )
            continue
        node = t.entity(f"sanction/{src.slug}/{slug(s.id)}")
        t.a(node, "SanctionListing")
        programme = "; ".join(s.props.get("program", []))
        names = ", ".join(records.entities[x].names[0] if records.entities[x].names else x for x in targets)
        t.label(node, f"{names}: listed by {', '.join(s.props.get('authority', [])) or 'an authority'}"
                      f"{f' ({programme})' if programme else ''} [{src.slug}]")  # fmt: skip
        t.link(node, "imposer", t.entity(imposer(s)))
        for tid in target_ids:
            t.link(node, "target", t.entity(tid))
        for p in s.props.get("program", []):
            t.add(node, t.pg("programme"), ox.Literal(p, language="en"))
        for a in s.props.get("authority", []):
            t.text(node, "authority", a)
        t.date(node, "start", start)
        end = _day(next(iter(s.props.get("endDate", [])), None))
        if end:
            t.date(node, "end", end)
        elif (seen := s.last_seen or records.latest) and len(seen) >= 10:
            t.date(node, "ongoingAsOf", seen[:10])
        t.text(node, "recordId", s.id)
        t.link(node, "status", t.pg("Confirmed"))
        t.link(node, "source", t.node(src.iri))
    others = Counter(e.schema for e in records.entities.values() if e.id not in listed)
    if others:
        result.notes.append(
            f"{sum(others.values())} entities no Sanction lists, not written: "
            + ", ".join(f"{k} {v}" for k, v in others.most_common())
        )
    if not_actors:
        result.notes.append(
            "listings of things pactgraph models no actor for, not written: "
            + ", ".join(f"{k} {v}" for k, v in not_actors.most_common())
        )
    if matched:
        result.notes.append(
            "listed entities matched to entities already known: "
            + ", ".join(f"{v} by {k}" for k, v in matched.most_common())
        )
    return []


DATASET = Dataset(
    name="opensanctions",
    summary="OpenSanctions FollowTheMoney entities: sanctions listings of persons, organisations and states",
    files="entities.ftm.json",
    read=_read,
    source=source,
    build=_build,
)

"""A deterministic synthetic world in pactgraph's ontology, for benchmarks.

About 200 states with ISO-like codes, offices and the leaders who held them since 1945
(`pg:Tenure`), bilateral and multilateral agreements (`pg:signatory` ≥ 2, `pg:signingDate`,
`pg:signedBy` the heads of state in office that day), alliances and other organisations
with dated `pg:Membership`s, `pg:Sanction`s, `pg:Support` and `pg:ArmsTransfer`s,
`pg:Participation`s in `pg:Conflict`s, and the `pg:Source`s every fact cites. Every n-ary
node has a `pg:status` and a `pg:source`; dates keep a precision (xsd:date, gYearMonth,
gYear). The data passes `ontology/shapes.ttl`.

The same seed and size give the same bytes. `triples` is a target: the world lands within
a few percent of it. Written as N-Triples and Turtle in one pass:

    python bench/world.py --triples 100000 --out bench/results/data
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG = "https://pactgraph.org/ontology#"
ID = "https://pactgraph.org/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"

PREFIXES = {"pg": PG, "rdfs": RDFS, "skos": SKOS, "dcterms": DCT, "xsd": XSD}

FIRST_YEAR = 1946
LAST_YEAR = 2025


@dataclass(frozen=True)
class Term:
    """One RDF term, spelled for N-Triples and for Turtle (prefixed names, @base-relative IRIs)."""

    nt: str
    ttl: str


def iri(full: str) -> Term:
    for prefix, ns in PREFIXES.items():
        if full.startswith(ns) and full[len(ns) :].replace("_", "a").isalnum():
            return Term(f"<{full}>", f"{prefix}:{full[len(ns) :]}")
    if full == RDF_TYPE:
        return Term(f"<{full}>", "a")
    if full.startswith(ID):
        return Term(f"<{full}>", f"<{full[len(ID) :]}>")
    return Term(f"<{full}>", f"<{full}>")


def entity(path: str) -> Term:
    return Term(f"<{ID}{path}>", f"<{path}>")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def text(value: str, lang: str | None = "en") -> Term:
    body = f'"{_escape(value)}"'
    if lang:
        return Term(f"{body}@{lang}", f"{body}@{lang}")
    return Term(body, body)


def typed(value: str, datatype: str) -> Term:
    body = f'"{_escape(value)}"'
    return Term(f"{body}^^<{XSD}{datatype}>", f"{body}^^xsd:{datatype}")


def integer(value: int) -> Term:
    return Term(f'"{value}"^^<{XSD}integer>', str(value))


A = iri(RDF_TYPE)
LABEL = iri(RDFS + "label")
ALT = iri(SKOS + "altLabel")
TITLE = iri(DCT + "title")
PUBLISHER = iri(DCT + "publisher")


def pg(local: str) -> Term:
    return iri(PG + local)


CONFIRMED, REPORTED, DISPUTED, DENIED = pg("Confirmed"), pg("Reported"), pg("Disputed"), pg("Denied")
DOMAINS = [
    pg(d)
    for d in (
        "Defence",
        "Security",
        "Counterterrorism",
        "Energy",
        "Finance",
        "Transport",
        "Industry",
        "Agriculture",
        "Culture",
        "ScienceAndTechnology",
        "Trade",
        "Payments",
    )
]

Node = tuple[Term, list[tuple[Term, Term]]]  # a subject and its (predicate, object) pairs

_SYLLABLES = [
    "ar",
    "bel",
    "cor",
    "dan",
    "el",
    "fa",
    "gor",
    "hal",
    "is",
    "jun",
    "ka",
    "lor",
    "mar",
    "nor",
    "ost",
    "pel",
    "qua",
    "ros",
    "sal",
    "tor",
    "ul",
    "var",
    "wen",
    "xan",
    "yor",
    "zel",
    "bra",
    "cri",
    "dro",
    "fle",
    "gla",
    "kri",
    "mon",
    "pra",
    "sta",
    "tre",
    "vel",
]
_ENDINGS = ["ia", "ania", "istan", "land", "or", "ea", "ovia", "esia", "ara", "uay"]
_GIVEN = [
    "Anna",
    "Boris",
    "Carla",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hassan",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Omar",
    "Petra",
    "Quentin",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wang",
    "Xenia",
    "Yusuf",
    "Zara",
    "Ali",
    "Bea",
    "Chen",
    "Dara",
    "Emil",
    "Femi",
    "Gita",
    "Hugo",
    "Ivo",
    "Jana",
]
_FAMILY = [
    "Abara",
    "Bellin",
    "Castor",
    "Dumas",
    "Eskel",
    "Farrow",
    "Gorin",
    "Halden",
    "Ivers",
    "Jansen",
    "Kovac",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quist",
    "Rahman",
    "Sato",
    "Tamm",
    "Ulloa",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zorin",
    "Achebe",
    "Brandt",
    "Costa",
    "Delacroix",
]


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        body = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 2)))
        name = (body + rng.choice(_ENDINGS)).capitalize()
        if name not in used:
            used.add(name)
            return name


def _real_codes() -> tuple[set[str], set[str]]:
    """ISO 3166 alpha-3 and alpha-2 codes of present and former states (pycountry)."""
    import pycountry

    three = {c.alpha_3 for c in pycountry.countries} | {c.alpha_3 for c in pycountry.historic_countries}
    two = {c.alpha_2 for c in pycountry.countries} | {
        c.alpha_2 for c in pycountry.historic_countries if hasattr(c, "alpha_2")
    }
    return three, two


def _code(name: str, n: int, used: set[str], rng: random.Random) -> str:
    """An ISO-like code of n capital letters, from the name's letters where one is free."""
    letters = [c for c in name.upper() if c.isalpha()]
    if n == 2:
        candidates = [letters[0] + a for a in letters[1:]]
    else:
        candidates = [letters[0] + a + b for i, a in enumerate(letters[1:], 1) for b in letters[i + 1 :]]
    for c in candidates:
        if c not in used:
            used.add(c)
            return c
    while True:
        c = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n))
        if c not in used:
            used.add(c)
            return c


def _slug(text_: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text_.lower()).strip("-")


@dataclass(frozen=True)
class Day:
    """A date with the precision a source gave it (10: day, 7: month, 4: year)."""

    year: int
    month: int
    day: int
    precision: int = 10

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.year, self.month, self.day)

    def term(self) -> Term:
        if self.precision == 4:
            return typed(f"{self.year:04d}", "gYear")
        if self.precision == 7:
            return typed(f"{self.year:04d}-{self.month:02d}", "gYearMonth")
        return typed(f"{self.year:04d}-{self.month:02d}-{self.day:02d}", "date")

    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def _day(rng: random.Random, lo: int, hi: int, precise: float = 0.75) -> Day:
    """A random date between two years; mostly to the day, some to the month or year only."""
    r = rng.random()
    precision = 10 if r < precise else 7 if r < precise + (1 - precise) * 0.6 else 4
    return Day(rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28), precision)


def _after(rng: random.Random, start: Day, min_years: int, max_years: int) -> Day:
    """An end date at least the start's year plus min_years (so never before the start at any precision)."""
    year = min(start.year + rng.randint(max(1, min_years), max(1, max_years)), LAST_YEAR + 5)
    return Day(year, rng.randint(1, 12), rng.randint(1, 28), 10 if rng.random() < 0.8 else 7)


@dataclass
class State:
    index: int
    code: str
    alpha2: str
    label: str
    term: Term
    head_of_state: str = ""  # office path
    tenures: dict[str, list[tuple[tuple[int, int, int], tuple[int, int, int], Term]]] = field(
        default_factory=dict
    )


@dataclass
class World:
    """What the generator produced, for the benchmark queries to pick from."""

    seed: int
    target: int
    triples: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    states: list[dict[str, str]] = field(default_factory=list)  # hub states first
    organisations: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "target": self.target,
            "triples": self.triples,
            "counts": self.counts,
            "states": self.states,
            "organisations": self.organisations,
        }


class Generator:
    """Yields the world subject by subject; `world` records what was made."""

    def __init__(self, triples: int, seed: int = 42, n_states: int = 200) -> None:
        self.rng = random.Random(seed)
        self.target = triples
        self.n_states = n_states
        self.world = World(seed=seed, target=triples)
        self.states: list[State] = []
        self.weights: list[float] = []
        self.sources: list[Term] = []
        self.organisations: list[Term] = []
        self.conflicts: list[tuple[Term, Day, Day | None]] = []
        self.items: list[Term] = []
        self.groups: list[Term] = []

    # ------------------------------------------------------------------ helpers

    def _count(self, kind: str, n: int = 1) -> None:
        self.world.counts[kind] = self.world.counts.get(kind, 0) + n

    def _cite(self, props: list[tuple[Term, Term]]) -> None:
        for s in self.rng.sample(self.sources, 1 if self.rng.random() < 0.8 else 2):
            props.append((pg("source"), s))

    def _status(self) -> Term:
        r = self.rng.random()
        return CONFIRMED if r < 0.85 else REPORTED if r < 0.94 else DISPUTED if r < 0.98 else DENIED

    def _state(self) -> State:
        """A state, hub states more often (a few states sign, sanction and support much more)."""
        return self.rng.choices(self.states, cum_weights=self.weights)[0]

    def _two_states(self) -> tuple[State, State]:
        a = self._state()
        b = self._state()
        while b is a:
            b = self._state()
        return a, b

    def _holder(self, state: State, day: Day) -> Term | None:
        spells = state.tenures.get(state.head_of_state, [])
        i = bisect.bisect_right([s[0] for s in spells], day.key) - 1
        if i >= 0 and spells[i][1] >= day.key:
            return spells[i][2]
        return None

    # ------------------------------------------------------------------ the world

    def nodes(self) -> Iterator[Node]:
        t = self.target
        yield from self._sources(60 + t // 1000)
        yield from self._states()
        n_orgs = 30 + t // 20_000
        yield from self._organisations(n_orgs)
        yield from self._conflicts_and_items(15 + t // 25_000, 40 + t // 10_000)
        fixed = self.world.triples
        budget = max(t - fixed, 0)
        yield from self._tenures(int(budget * 0.22))
        yield from self._agreements(int(budget * 0.22), bilateral=True)
        yield from self._agreements(int(budget * 0.08), bilateral=False)
        yield from self._memberships(int(budget * 0.16))
        yield from self._sanctions(int(budget * 0.12))
        yield from self._support(int(budget * 0.12))
        yield from self._participations(self.target - self.world.triples)

    def _emit(self, kind: str, node: Node) -> Node:
        self._count(kind)
        self.world.triples += len(node[1])
        return node

    def _sources(self, n: int) -> Iterator[Node]:
        publishers = ["Ministry of Foreign Affairs", "News Agency", "Treaty Series", "Official Gazette"]
        for i in range(n):
            s = entity(f"source/bench-{i:05d}")
            self.sources.append(s)
            year = self.rng.randint(1990, LAST_YEAR)
            props = [
                (A, pg("Source")),
                (LABEL, text(f"Benchmark source {i}")),
                (TITLE, text(f"Synthetic report number {i} ({year})")),
                (PUBLISHER, text(self.rng.choice(publishers))),
                (pg("url"), typed(f"https://example.org/bench/source/{i}", "anyURI")),
                (pg("retrieved"), typed(f"2025-{self.rng.randint(1, 12):02d}-15", "date")),
            ]
            yield self._emit("Source", (s, props))

    def _states(self) -> Iterator[Node]:
        names: set[str] = set()
        # Never a real state's code: the world's states are `state/<code>`, and on a real state's
        # IRI they would contradict the bundled data (its label, codes and Wikidata id).
        codes3, codes2 = _real_codes()
        total = 0.0
        for i in range(self.n_states):
            label = _name(self.rng, names)
            code = _code(label, 3, codes3, self.rng)
            alpha2 = _code(code, 2, codes2, self.rng)
            state = State(i, code, alpha2, label, entity(f"state/{code}"))
            self.states.append(state)
            total += 1.0 / (i + 5) ** 0.9  # a long tail: the first states are the hubs
            self.weights.append(total)
            self.world.states.append({"iri": ID + f"state/{code}", "code": code, "label": label})
            props = [
                (A, pg("State")),
                (LABEL, text(label)),
                (ALT, text(f"Republic of {label}")),
                (pg("isoAlpha3"), typed(code, "string")),
                (pg("isoAlpha2"), typed(alpha2, "string")),
                (pg("isoNumeric"), typed(f"{i + 1:03d}", "string")),
                (pg("gwCode"), integer(2 + i * 4)),
                (pg("cowCode"), integer(2 + i * 4)),
                (pg("wikidataId"), typed(f"Q{900000 + i}", "string")),
            ]
            self._cite(props)
            yield self._emit("State", (state.term, props))

    def _organisations(self, n: int) -> Iterator[Node]:
        kinds = ["Alliance", "IntergovernmentalOrganisation", "SupranationalUnion"]
        names: set[str] = set()
        for i in range(n):
            kind = "IntergovernmentalOrganisation" if i == 0 else self.rng.choice(kinds)
            base = "United Assembly of Nations" if i == 0 else _name(self.rng, names)
            noun = {"Alliance": "Defence Alliance", "SupranationalUnion": "Union"}.get(kind, "Organisation")
            label = base if i == 0 else f"{base} {noun}"
            o = entity(f"org/bench-{i:03d}")
            self.organisations.append(o)
            self.world.organisations.append(ID + f"org/bench-{i:03d}")
            founded = Day(1945, 10, 24) if i == 0 else _day(self.rng, 1946, 2015)
            props = [
                (A, pg(kind)),
                (LABEL, text(label)),
                (ALT, text("".join(w[0] for w in label.split()).upper())),
                (pg("founded"), founded.term()),
                (pg("basedIn"), self._state().term),
            ]
            self._cite(props)
            yield self._emit("Organisation", (o, props))

    def _conflicts_and_items(self, n_conflicts: int, n_items: int) -> Iterator[Node]:
        for i in range(n_conflicts):
            where = self._state()
            start = _day(self.rng, 1946, 2022)
            end = _after(self.rng, start, 1, 12) if self.rng.random() < 0.7 else None
            if end and end.year > LAST_YEAR:
                end = None
            c = entity(f"conflict/bench-{i:03d}")
            self.conflicts.append((c, start, end))
            props = [
                (A, pg("Conflict")),
                (LABEL, text(f"{where.label} war of {start.year}")),
                (pg("location"), where.term),
                (pg("start"), start.term()),
            ]
            if end:
                props.append((pg("end"), end.term()))
            self._cite(props)
            yield self._emit("Conflict", (c, props))
            g = entity(f"group/bench-{i:03d}")
            self.groups.append(g)
            props = [(A, pg("ArmedGroup")), (LABEL, text(f"{where.label} Liberation Front {i}"))]
            props.append((pg("basedIn"), where.term))
            self._cite(props)
            yield self._emit("ArmedGroup", (g, props))
        kinds = ["drone", "missile", "tank", "fighter jet", "rifle", "air defence system", "howitzer"]
        for i in range(n_items):
            maker = self._state()
            item = entity(f"item/bench-{i:04d}")
            self.items.append(item)
            props = [
                (A, pg("WeaponSystem")),
                (LABEL, text(f"{maker.code}-{i} {self.rng.choice(kinds)}")),
                (pg("manufacturer"), maker.term),
            ]
            self._cite(props)
            yield self._emit("WeaponSystem", (item, props))

    def _tenures(self, budget: int) -> Iterator[Node]:
        offices = [("head-of-state", "President of {}"), ("head-of-government", "Prime Minister of {}")]
        offices += [("foreign-minister", "Minister of Foreign Affairs of {}")]
        offices += [("defence-minister", "Minister of Defence of {}")]
        # ~9 triples per tenure, ~5 per new person (half of tenures are re-elections), ~5 per office
        per_office = max(
            1, round((budget - len(self.states) * len(offices) * 5) / 11.5 / (4 * len(self.states)))
        )
        span = (LAST_YEAR - FIRST_YEAR) / per_office
        people = 0
        for state in self.states:
            for key, title in offices:
                office_path = f"office/{key}-of-{state.code.lower()}"
                office = entity(office_path)
                if key == "head-of-state":
                    state.head_of_state = office_path
                props = [
                    (A, pg("Office")),
                    (LABEL, text(title.format(state.label))),
                    (pg("officeOf"), state.term),
                ]
                self._cite(props)
                yield self._emit("Office", (office, props))
                spells: list[tuple[tuple[int, int, int], tuple[int, int, int], Term]] = []
                start = Day(
                    LAST_YEAR - int(span * per_office), self.rng.randint(1, 12), self.rng.randint(1, 28)
                )
                person: Term | None = None
                for k in range(per_office):
                    last = k == per_office - 1
                    years = max(1, round(span * self.rng.uniform(0.6, 1.4)))
                    end = None if last else Day(min(start.year + years, LAST_YEAR), start.month, start.day)
                    if person is None or self.rng.random() < 0.55:
                        people += 1
                        name = f"{self.rng.choice(_GIVEN)} {self.rng.choice(_FAMILY)}"
                        person = entity(f"person/{_slug(name)}-{people}")
                        pprops = [(A, pg("Person")), (LABEL, text(name))]
                        if self.rng.random() < 0.3:
                            pprops.append((pg("wikidataId"), typed(f"Q{2000000 + people}", "string")))
                        self._cite(pprops)
                        yield self._emit("Person", (person, pprops))
                    precision = 10 if self.rng.random() < 0.85 else 7
                    shown = Day(start.year, start.month, start.day, precision)
                    t = entity(f"tenure/{office_path.removeprefix('office/')}/{start.iso()}")
                    tprops = [
                        (A, pg("Tenure")),
                        (pg("holder"), person),
                        (pg("office"), office),
                        (pg("start"), shown.term()),
                        (pg("status"), CONFIRMED if self.rng.random() < 0.97 else REPORTED),
                    ]
                    if end is not None:
                        tprops.append((pg("end"), end.term()))
                    self._cite(tprops)
                    spells.append((start.key, end.key if end else (9999, 12, 31), person))
                    yield self._emit("Tenure", (t, tprops))
                    if end is None or end.year >= LAST_YEAR:
                        break
                    start = end
                state.tenures[office_path] = spells

    def _agreements(self, budget: int, bilateral: bool) -> Iterator[Node]:
        classes = ["Agreement", "Treaty", "StrategicPartnership", "DefencePact"]
        names = ["Treaty of Friendship", "Agreement on Trade", "Defence Cooperation Agreement"]
        names += ["Memorandum on Energy", "Strategic Partnership Treaty", "Convention on Transport"]
        per = 13 if bilateral else 22
        kind = "BilateralAgreement" if bilateral else "MultilateralAgreement"
        start = self.world.counts.get("BilateralAgreement", 0) + self.world.counts.get(
            "MultilateralAgreement", 0
        )
        for i in range(start, start + max(1, budget // per)):
            signed = _day(self.rng, FIRST_YEAR, LAST_YEAR, precise=0.8)
            if bilateral:
                parties = list(self._two_states())
            else:
                chosen: dict[int, State] = {}
                for _ in range(self.rng.randint(3, 14)):
                    s = self._state()
                    chosen[s.index] = s
                while len(chosen) < 3:
                    s = self.rng.choice(self.states)
                    chosen[s.index] = s
                parties = [chosen[k] for k in sorted(chosen)]
            title = self.rng.choice(names)
            cls = self.rng.choice(classes)
            if bilateral:
                label = f"{title} between {parties[0].label} and {parties[1].label} ({signed.year})"
            else:
                label = f"Multilateral {title.lower()} of {signed.year} no. {i}"
            a = entity(f"agreement/bench-{i:06d}")
            props = [(A, pg(cls)), (LABEL, text(label))]
            props += [(pg("signatory"), p.term) for p in parties]
            if not bilateral and self.rng.random() < 0.2:
                props.append((pg("signatory"), self.rng.choice(self.organisations)))
            props.append((pg("signingDate"), signed.term()))
            for p in parties[:2]:
                holder = self._holder(p, signed)
                if holder is not None:
                    props.append((pg("signedBy"), holder))
            if self.rng.random() < 0.5:
                props.append((pg("termYears"), integer(self.rng.choice([5, 10, 20, 25, 50]))))
            for d in self.rng.sample(DOMAINS, self.rng.randint(1, 3)):
                props.append((pg("coversDomain"), d))
            props.append((pg("status"), self._status()))
            self._cite(props)
            if self.rng.random() < 0.2:
                props.append(
                    (pg("quote"), text(f"The parties agreed to {title.lower()} terms in {signed.year}."))
                )
            yield self._emit(kind, (a, props))

    def _memberships(self, budget: int) -> Iterator[Node]:
        n = max(1, budget // 8)
        orgs = self.organisations
        # The first organisation is near universal; the others have regional member pools.
        pools: list[list[State]] = [self.states]
        for _ in orgs[1:]:
            size = min(self.rng.randint(5, 60), len(self.states))
            pool: dict[int, State] = {}
            while len(pool) < size:
                s = self._state() if self.rng.random() < 0.5 else self.rng.choice(self.states)
                pool[s.index] = s
            pools.append([pool[k] for k in sorted(pool)])
        for i in range(n):
            k = 0 if i < len(self.states) else self.rng.randrange(len(orgs))
            member = self.states[i] if i < len(self.states) else self.rng.choice(pools[k])
            start = _day(self.rng, FIRST_YEAR, 2024)
            m = entity(f"membership/bench-{i:06d}")
            props = [
                (A, pg("Membership")),
                (pg("member"), member.term),
                (pg("organisation"), orgs[k]),
                (pg("start"), start.term()),
                (pg("status"), CONFIRMED if self.rng.random() < 0.95 else REPORTED),
            ]
            if i >= len(self.states) and self.rng.random() < 0.35:
                props.append((pg("end"), _after(self.rng, start, 1, 30).term()))
            self._cite(props)
            yield self._emit("Membership", (m, props))

    def _sanctions(self, budget: int) -> Iterator[Node]:
        measures = ["asset freeze", "travel ban", "export ban", "arms embargo", "financial restrictions"]
        for i in range(max(1, budget // 11)):
            target = self._state()
            imposer = self.rng.choice(self.organisations) if self.rng.random() < 0.15 else self._state().term
            if imposer == target.term:
                imposer = self.rng.choice(self.organisations)
            start = _day(self.rng, 1960, LAST_YEAR)
            s = entity(f"sanction/bench-{i:06d}")
            props = [
                (A, pg("Sanction")),
                (LABEL, text(f"Sanctions on {target.label} no. {i}")),
                (pg("imposer"), imposer),
                (pg("target"), target.term),
                (pg("programme"), text(f"Programme {i} of {start.year}")),
                (pg("measure"), text(self.rng.choice(measures))),
                (pg("start"), start.term()),
                (pg("status"), self._status()),
            ]
            if self.rng.random() < 0.3:
                props.append((pg("end"), _after(self.rng, start, 1, 15).term()))
            if self.conflicts and self.rng.random() < 0.3:
                props.append((pg("reason"), self.rng.choice(self.conflicts)[0]))
            self._cite(props)
            yield self._emit("Sanction", (s, props))

    def _support(self, budget: int) -> Iterator[Node]:
        kinds = ["military", "political", "intelligence", "economic", "equipment"]
        for i in range(max(1, budget // 10)):
            supporter, recipient_state = self._two_states()
            recipient = recipient_state.term
            if self.groups and self.rng.random() < 0.05:
                recipient = self.rng.choice(self.groups)
            arms = self.rng.random() < 0.45
            start = _day(self.rng, 1950, LAST_YEAR, precise=0.6)
            s = entity(f"support/bench-{i:06d}")
            props = [
                (A, pg("ArmsTransfer" if arms else "Support")),
                (LABEL, text(f"{supporter.label} {'arms' if arms else 'support'} no. {i}")),
                (pg("supporter"), supporter.term),
                (pg("recipient"), recipient),
                (pg("supportKind"), typed("arms" if arms else self.rng.choice(kinds), "string")),
                (pg("start"), start.term()),
                (pg("status"), self._status()),
            ]
            if arms:
                props.append((pg("item"), self.rng.choice(self.items)))
            if self.rng.random() < 0.4:
                props.append((pg("end"), _after(self.rng, start, 1, 10).term()))
            if self.conflicts and self.rng.random() < 0.2:
                props.append((pg("usedIn"), self.rng.choice(self.conflicts)[0]))
            self._cite(props)
            yield self._emit("Support", (s, props))

    def _participations(self, budget: int) -> Iterator[Node]:
        for i in range(max(1, budget // 9)):
            conflict, start, end = self.rng.choice(self.conflicts)
            who = self.rng.choice(self.groups) if self.rng.random() < 0.1 else self._state().term
            p = entity(f"participation/bench-{i:06d}")
            props = [
                (A, pg("Participation")),
                (pg("participant"), who),
                (pg("conflict"), conflict),
                (pg("side"), typed(self.rng.choice(["attacker", "defender", "coalition"]), "string")),
                (pg("start"), start.term()),
                (pg("status"), self._status()),
            ]
            if end is not None:
                props.append((pg("end"), end.term()))
            self._cite(props)
            yield self._emit("Participation", (p, props))


def _ttl_header() -> str:
    lines = [
        "# Synthetic benchmark world for pactgraph (bench/world.py); not real data.",
        f"@base <{ID}> .",
    ]
    lines += [f"@prefix {p}: <{ns}> ." for p, ns in PREFIXES.items()]
    return "\n".join(lines) + "\n\n"


def write(
    triples: int, out_dir: Path, seed: int = 42, name: str | None = None, states: int = 200
) -> dict[str, object]:
    """Write `<name>.nt`, `<name>.ttl` and `<name>.json` (what was generated) into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = name or f"world-{triples}"
    gen = Generator(triples, seed, states)
    started = time.perf_counter()
    nt_path, ttl_path = out_dir / f"{stem}.nt", out_dir / f"{stem}.ttl"
    with nt_path.open("w", encoding="utf-8") as nt, ttl_path.open("w", encoding="utf-8") as ttl:
        ttl.write(_ttl_header())
        nt_lines: list[str] = []
        ttl_parts: list[str] = []
        for subject, props in gen.nodes():
            s = subject.nt
            nt_lines.extend(f"{s} {p.nt} {o.nt} .\n" for p, o in props)
            body = " ;\n    ".join(f"{p.ttl} {o.ttl}" for p, o in props)
            ttl_parts.append(f"{subject.ttl} {body} .\n\n")
            if len(nt_lines) > 50_000:
                nt.write("".join(nt_lines))
                ttl.write("".join(ttl_parts))
                nt_lines.clear()
                ttl_parts.clear()
        nt.write("".join(nt_lines))
        ttl.write("".join(ttl_parts))
    world = gen.world.as_json()
    world["seconds"] = round(time.perf_counter() - started, 3)
    world["files"] = {"nt": str(nt_path), "ttl": str(ttl_path)}
    world["bytes"] = {"nt": nt_path.stat().st_size, "ttl": ttl_path.stat().st_size}
    (out_dir / f"{stem}.json").write_text(json.dumps(world, indent=1))
    return world


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triples", type=int, default=100_000, help="target size (default 100000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "data")
    parser.add_argument("--name", help="file stem (default world-<triples>)")
    parser.add_argument("--states", type=int, default=200, help="number of states (default 200)")
    args = parser.parse_args()
    world = write(args.triples, args.out, args.seed, args.name, args.states)
    counts = world["counts"]
    assert isinstance(counts, dict)
    print(f"{world['triples']} triples in {world['seconds']} s -> {world['files']}")
    for kind, n in sorted(counts.items()):
        print(f"  {kind:24} {n:>8}")


if __name__ == "__main__":
    main()

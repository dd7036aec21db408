"""Labels for the nodes no source names: n-ary hubs (a membership, a sanction, a tenure made
from a CSV row or a dataset) are labelled from their parts, "Iran in BRICS, since 2024-01-01",
never by their IRI's last segment ("state-IRN--org-brics--2024-01-01").

The projection's build calls `label_hubs` for every hub without a label, and its update
`hub_label` for the hubs a write touched; `Projection.label`, and so entity pages, paths,
neighbourhoods and every export, then read the made label. A made label is told from the
labels sources give (a hub's parts' own labels), never from other made labels, so it does not
depend on the order hubs are labelled in.
`HUB_VERBS` are the words a hub reads with, here and in path sentences.
`fact_text` tells an entity page's fact as a sentence, with the verbs paths use for hubs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the projection labels its hubs with these words when it is built
    from pactgraph.graph.projection import Edge, Projection

# Hub class -> (role linking the first actor, role linking the second, active verb, passive verb)
HUB_VERBS: dict[str, tuple[str, str, str, str]] = {
    "Support": ("supporter", "recipient", "supported", "was supported by"),
    "ArmsTransfer": ("supporter", "recipient", "supplied {item} to", "was supplied {item} by"),
    "Sanction": ("imposer", "target", "sanctioned", "was sanctioned by"),
    "Membership": ("member", "organisation", "is a member of", "has as a member"),
    "Tenure": ("holder", "office", "held the office of", "was held by"),
    "Participation": ("participant", "conflict", "took part in", "saw the participation of"),
    "Cooperation": ("participants", "participants", "cooperates with", "cooperates with"),
    "Agreement": ("signatory", "signatory", "signed {hub} with", "signed {hub} with"),
    "AgreementParty": ("party", "partyTo", "is a party to", "has as a party"),
}
# A leader's tenure names the state it led (pg:ofState) beside or instead of an office (the
# datasets' spells name none): "Vladimir Putin led Russia as President of Russia since 2012-05-07".
TENURE_OF_STATE: tuple[str, str, str, str] = ("holder", "ofState", "led", "was led by")

# Hub classes that read as an agreement (graph/paths.py tells them so too).
_AGREEMENTS = ("Agreement", "Treaty", "StrategicPartnership", "DefencePact")

# Hub class -> how its parts read, by the roles (predicate local names) that link them.
# A class not here reads as "<Class>: <its parts>".
_PATTERNS: dict[str, tuple[str, ...]] = {
    "Membership": ("{member} in {organisation}",),
    "Tenure": ("{holder} as {office}", "{holder}, leader of {ofState}"),
    "Sanction": ("{imposer} sanctions on {target}",),
    "Support": ("support from {supporter} to {recipient}",),
    "ArmsTransfer": ("{item} from {supporter} to {recipient}", "arms from {supporter} to {recipient}"),
    "Participation": ("{participant} in {conflict}",),
    "Cooperation": ("cooperation of {participants}",),
    "AgreementParty": ("{party}, party to {partyTo}",),
}


def _role(predicate: str) -> str:
    return predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _humanize(name: str) -> str:
    """ "ArmsTransfer" -> "Arms transfer"."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words[:1].upper() + words[1:]


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _period(e: Edge) -> str:
    if e.start and e.end:
        return f", {e.start} to {e.end}"
    if e.end:
        return f", until {e.end}"
    if e.start:
        return f", on {e.start}" if e.dated else f", since {e.start}"
    return ""


def _first_key(e: Edge) -> tuple[str, str, str, str]:
    """The fact a hub's time is told from: the earliest, then by name (one choice on every backend)."""
    return (e.start or "", e.predicate, e.end or "", e.object)


def hub_label(proj: Projection, hub: str) -> str:
    """The hub told by its parts and its time: "Iran in BRICS, since 2024-01-01"."""
    parts: dict[str, list[str]] = defaultdict(list)
    first: Edge | None = None
    made = proj.made
    for other, pair in proj.graph._adj[hub].items():
        for e in pair["facts"]:
            if e.subject == hub:
                own = None if other in made else proj.labels.get(other)
                parts[_role(e.predicate)].append(own or other.rsplit("/", 1)[-1])
                if first is None or _first_key(e) < _first_key(first):
                    first = e
    cls = proj.classes.get(hub, "")
    words = {role: _listed(sorted(set(names))) for role, names in parts.items()}
    for pattern in _PATTERNS.get(cls, ()):
        try:
            core = pattern.format_map(words)
            break
        except KeyError:  # a part this pattern needs is missing: try the next
            continue
    else:
        listed = _listed([words[role] for role in sorted(words)]) if words else hub.rsplit("/", 1)[-1]
        core = f"{_humanize(cls or 'Relation')}: {listed}"
    core = core[:1].upper() + core[1:]
    return core + (_period(first) if first is not None else "")


def label_hubs(proj: Projection) -> int:
    """Give every hub without a label one made from its parts (`proj.made` lists them); how many
    were labelled."""
    made = {hub: hub_label(proj, hub) for hub in proj.hubs if not proj.labels.get(hub)}
    proj.labels.update(made)
    proj.made.update(made)
    return len(made)


def hub_verbs() -> dict[str, dict[str, Any]]:
    """How a hub reads as a verb between the actors it links, by hub class: the role of the
    first actor and of the second, and the verb each way ("is a member of" / "has as a
    member"); the same words path sentences use (graph/paths.py)."""
    verbs = {
        cls: {"roles": [first, second], "active": active, "passive": passive}
        for cls, (first, second, active, passive) in HUB_VERBS.items()
    }
    for cls in _AGREEMENTS:
        verbs.setdefault(cls, verbs["Agreement"])
    return verbs


def fact_text(entity: dict[str, Any], fact: dict[str, Any]) -> str:
    """A fact of an entity page (graph.entities.describe) in words: through a hub, the verb
    between the entity and the hub's other actors ("Iran is a member of BRICS"); otherwise
    the entity, the reading and the other end ("Iran is home to Young Journalists Club")."""
    node = fact["node"]
    plain = f"{entity['label']} {fact['label']} {node['label']}"
    verbs = hub_verbs().get(node["class"])
    if verbs is None or fact["direction"] != "backward":
        return plain
    role = _role(fact["predicate"])
    first, second = verbs["roles"]
    if role == first:
        verb, others_role = verbs["active"], second
    elif role == second:
        verb, others_role = verbs["passive"], first
    else:
        return plain
    others = [
        w["label"] for w in fact.get("with", []) if w["role"] == others_role and w["id"] != entity["id"]
    ]
    if not others:
        return plain
    item = next((w["label"] for w in fact.get("with", []) if w["role"] == "item"), "arms")
    return f"{entity['label']} {verb.format(item=item, hub=node['label'])} {_listed(others)}"

// The pactgraph explorer: search, entity pages, a path finder and a SPARQL editor over the
// HTTP API of the same server. Plain JavaScript, no build step of its own. Cytoscape.js and YASGUI
// are loaded from /vendor/, where the wheel's build puts them from npm; without them the page
// still works, with path sentences instead of a drawing and a plain textarea for SPARQL.
"use strict";

const app = {
  config: { vendor: {}, vendor_missing: null, hub_classes: [], hub_verbs: {}, export_formats: [] },
  hubClasses: new Set(),
  libs: { cytoscape: false, yasgui: false },
  yasgui: null,
  sourceInfo: new Map(), // source IRI -> {label, url, publisher}
};

const FORMAT_NAMES = {
  graphml: "GraphML", gexf: "GEXF", cyjs: "Cytoscape (.cyjs)", turtle: "Turtle",
  nquads: "N-Quads", trig: "TriG", jsonld: "JSON-LD",
};

// Colours by class; a class not listed gets one from the palette by its name.
const CLASS_COLOURS = {
  State: "#2f6db5", Person: "#d9669b", Government: "#8e5cc2", Office: "#8c6d4f", Tenure: "#b39a86",
  Organisation: "#3b9a57", IntergovernmentalOrganisation: "#3b9a57", Alliance: "#1f7a3f",
  SupranationalUnion: "#5cb56f", GovernmentAgency: "#6fae8a", MediaOutlet: "#7fb8a4", ArmedGroup: "#4d6b3a",
  Agreement: "#e8892b", Treaty: "#e8892b", StrategicPartnership: "#f07c12", DefencePact: "#c96a10",
  Membership: "#19a7b8", Sanction: "#d23c3c", Support: "#b5a51d", ArmsTransfer: "#9c8a10",
  Participation: "#8a8a8a", Cooperation: "#6f8fa8", Conflict: "#8b1e1e", Event: "#a0522d",
  FallOfGovernment: "#a0522d", Inauguration: "#a0522d", Place: "#7a7a52", Source: "#999999",
};
const IDENTIFIER_NAMES = {
  iso_alpha2: "ISO 3166 alpha-2", iso_alpha3: "ISO 3166 alpha-3", iso_numeric: "ISO 3166 numeric",
  wikidata: "Wikidata", gleditsch_ward: "Gleditsch–Ward", correlates_of_war: "Correlates of War",
};
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f"];

const EXAMPLES = [
  {
    name: "Who signed the CSPA",
    query: `PREFIX pg: <https://pactgraph.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# Who signed the Russia–Iran Comprehensive Strategic Partnership Agreement, for whom, and when?
SELECT DISTINCT ?agreement ?state ?signedBy ?date WHERE {
  ?a a pg:StrategicPartnership ; rdfs:label ?agreement ;
     pg:signatory ?s ; pg:signingDate ?date .
  ?s rdfs:label ?state . FILTER(LANGMATCHES(LANG(?state), "en"))
  OPTIONAL {
    # the person who signed for that state holds one of its offices
    ?a pg:signedBy ?p . ?p rdfs:label ?signedBy . FILTER(LANGMATCHES(LANG(?signedBy), "en"))
    ?tenure a pg:Tenure ; pg:holder ?p ; pg:office/pg:officeOf ?s .
  }
}
ORDER BY ?state`,
  },
  {
    name: "Leaders of Syria on a date",
    query: `PREFIX pg: <https://pactgraph.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>

# Who held Syria's offices on 2024-12-01? Change the day or the ISO code.
# Dates keep their precision (2011, 2019-12, 2024-12-08); beside each, the days it
# may stand for: held for sure from pg:startLatest until pg:endEarliest.
SELECT ?office ?leader ?start ?end WHERE {
  BIND("2024-12-01"^^xsd:date AS ?day)
  ?state pg:isoAlpha3 "SYR" .
  ?o pg:officeOf ?state ; rdfs:label ?office .
  ?tenure a pg:Tenure ; pg:office ?o ; pg:holder ?h ; pg:start ?start ; pg:startLatest ?from .
  OPTIONAL { ?tenure pg:end ?end ; pg:endEarliest ?to }
  ?h rdfs:label ?leader . FILTER(LANGMATCHES(LANG(?leader), "en"))
  FILTER(?from <= ?day && (!BOUND(?to) || ?to >= ?day))
}`,
  },
  {
    name: "Sanctions by imposer",
    query: `PREFIX pg: <https://pactgraph.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# Who sanctions whom, since when?
SELECT ?imposer (COUNT(DISTINCT ?sanction) AS ?sanctions)
       (GROUP_CONCAT(DISTINCT ?target; separator=", ") AS ?targets)
       (MIN(STR(?start)) AS ?since)
WHERE {
  ?sanction a pg:Sanction ; pg:imposer ?i ; pg:target ?t .
  OPTIONAL { ?sanction pg:start ?start }
  ?i rdfs:label ?imposer . FILTER(LANGMATCHES(LANG(?imposer), "en"))
  ?t rdfs:label ?target . FILTER(LANGMATCHES(LANG(?target), "en"))
}
GROUP BY ?imposer
ORDER BY DESC(?sanctions)`,
  },
  {
    name: "Memberships of Iran",
    query: `PREFIX pg: <https://pactgraph.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# Which organisations is Iran a member of, since when?
SELECT ?organisation ?start ?end ?status WHERE {
  ?iran pg:isoAlpha3 "IRN" .
  ?m a pg:Membership ; pg:member ?iran ; pg:organisation ?o .
  ?o rdfs:label ?organisation . FILTER(LANGMATCHES(LANG(?organisation), "en"))
  OPTIONAL { ?m pg:start ?start }
  OPTIONAL { ?m pg:end ?end }
  OPTIONAL { ?m pg:status ?status }
}
ORDER BY ?start`,
  },
  {
    name: "Reported claims",
    query: `PREFIX pg: <https://pactgraph.org/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# Claims that sources report but nobody has confirmed, with the words they rest on.
SELECT ?claim ?label ?source ?quote WHERE {
  ?claim pg:status pg:Reported ; rdfs:label ?label .
  FILTER(LANGMATCHES(LANG(?label), "en"))
  OPTIONAL { ?claim pg:source/rdfs:label ?source }
  OPTIONAL { ?claim pg:quote ?quote }
}`,
  },
];

// ---- small helpers -------------------------------------------------------------------------

/** An http(s) URL from the data, or null: only those become links. Anything else a source
 * may give (javascript:, data:, vbscript:…) is shown as text and can never be followed. */
function httpUrl(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A link target the page itself builds (#…, /…, ?…) or an http(s) URL; null for anything else. */
function safeHref(value) {
  const text = String(value);
  return /^[#?]/.test(text) || /^\/(?!\/)/.test(text) ? text : httpUrl(text);
}

/** Build an element: h("a", {href: "#x", class: "y"}, "text", child). Text is never parsed as HTML,
 * and an href or src that is not the page's own or http(s) is left out (never a javascript: link). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if ((k === "href" || k === "src") && safeHref(v) === null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function getJSON(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** The short id of a pactgraph IRI (state/IRN), or the IRI itself. */
function localId(iri) {
  const m = /^https?:\/\/[^/]+\/id\/(.+)$/.exec(iri || "");
  return m ? m[1] : iri;
}

function entityHref(id) {
  return "#entity/" + localId(id);
}

function entityUrl(id) {
  return "/entities/" + localId(id).split("/").map(encodeURIComponent).join("/");
}

/** "StrategicPartnership" -> "Strategic partnership", "signedBy" -> "signed by". */
function humanize(name) {
  const words = String(name).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function classColour(cls) {
  if (CLASS_COLOURS[cls]) return CLASS_COLOURS[cls];
  let n = 0;
  for (const ch of String(cls)) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[n % PALETTE.length];
}

function classBadge(cls) {
  return h("span", { class: "badge", style: `--c: ${classColour(cls)}` }, humanize(cls || "Thing"));
}

function statusBadge(status) {
  return h("span", { class: `status status-${status}` }, status);
}

/** Names for hubs no source names, said from an entity page's facts ("is a member of BRICS"). */
const hubNames = new Map();

/** A node's label; a hub without a name of its own (a membership made from a CSV row) is named by
 * what the entity page said of it, else by its class, never by its id. */
function displayLabel(node) {
  const unnamed = !node.label || node.label === String(node.id).split("/").pop();
  if (!unnamed) return node.label;
  return hubNames.get(node.id) || (node.class ? humanize(node.class) : localId(node.id));
}

function localName(iri) {
  return String(iri).split(/[#/]/).pop();
}

/** A fact through a hub as the verb between the entity and the hub's other actors, as path
 * sentences tell hubs (the verbs come from the server; graph/labels.py's fact_text says the same
 * on the CLI): {verb, others, rest}, or null when the fact does not read that way. */
function hubVerb(entity, f) {
  const verbs = (app.config.hub_verbs || {})[f.node.class];
  if (!verbs || f.direction !== "backward") return null;
  const role = localName(f.predicate);
  const [first, second] = verbs.roles;
  const [verb, othersRole] = role === first ? [verbs.active, second] : role === second ? [verbs.passive, first] : [];
  const parties = (f.with || []).filter((w) => w.id !== entity.id);
  const others = parties.filter((w) => w.role === othersRole);
  if (!verb || !others.length) return null;
  const item = verb.includes("{item}") ? parties.find((w) => w.role === "item") : null;
  return {
    verb: verb.replace("{item}", item ? item.label : "arms").replace("{hub}", f.node.label),
    others,
    rest: parties.filter((w) => w.role !== othersRole && w !== item),
  };
}

function listed(nodes) {
  return nodes.map((n, i) => [i ? (i === nodes.length - 1 ? " and " : ", ") : "", entityLink(n)]);
}

function entityLink(node, text) {
  return h("a", { href: entityHref(node.id), class: "entity-link", title: node.class || "" }, text || displayLabel(node));
}

function showError(where, err) {
  const detail = err.body && err.body.detail;
  const closest = detail && (detail.closest || detail.candidates);
  where.replaceChildren(
    h("div", { class: "error" },
      h("p", {}, err.message),
      closest && closest.length
        ? h("p", {}, "Did you mean: ", closest.map((c, i) => [i ? ", " : "", entityLink(c)]))
        : null),
  );
}

function loadAsset(url) {
  return new Promise((resolve, reject) => {
    const el = url.endsWith(".css")
      ? h("link", { rel: "stylesheet", href: url })
      : h("script", { src: url });
    el.onload = resolve;
    el.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.append(el);
  });
}

// ---- start-up and routing ------------------------------------------------------------------

async function boot() {
  try {
    app.config = await getJSON("/explorer/config");
  } catch (err) {
    console.warn("no explorer config", err);
  }
  app.hubClasses = new Set(app.config.hub_classes || []);
  await Promise.all(Object.entries(app.config.vendor || {}).map(async ([name, files]) => {
    if (!files) return;
    try {
      for (const f of files) await loadAsset(f);
      app.libs[name] = true;
    } catch (err) {
      console.warn(err);
    }
  }));
  app.libs.cytoscape = app.libs.cytoscape && typeof window.cytoscape === "function";
  app.libs.yasgui = app.libs.yasgui && typeof window.Yasgui === "function";
  showNotice();

  suggest($("search"), (hit) => { location.hash = entityHref(hit.local_id || hit.id); $("search").value = ""; });
  setupPathForm();
  window.addEventListener("hashchange", route);
  route();
  loadStats();
  document.body.dataset.ready = "true";
}

/** Why a library is off: the build's reason when it is not in this copy, else a failed load. */
function whyOff(name) {
  if (!(app.config.vendor || {})[name]) return app.config.vendor_missing || "it is not built into this copy of pactgraph";
  return "its files did not load in this browser (see the console)";
}

function showNotice() {
  const off = [];
  if (!app.libs.cytoscape) off.push(["the graph drawing (Cytoscape.js)", whyOff("cytoscape")]);
  if (!app.libs.yasgui) off.push(["the SPARQL editor (YASGUI)", whyOff("yasgui")]);
  if (!off.length) return;
  const what = off.map(([w]) => w).join(" and ");
  const reasons = [...new Set(off.map(([, r]) => r))].join("; ");
  const note = $("notice");
  note.replaceChildren(
    h("span", {}, `${what.charAt(0).toUpperCase()}${what.slice(1)} ${off.length > 1 ? "are" : "is"} off: ${reasons}. `),
    h("span", {}, "To turn them on, install npm (Node.js) and reinstall pactgraph from its source with pip; "
      + "the build puts them into the package. Search, entity pages, path sentences and plain SPARQL work meanwhile."),
  );
  note.hidden = false;
}

function showView(name) {
  for (const el of document.querySelectorAll("main > .view")) el.hidden = el.id !== `view-${name}`;
  for (const a of document.querySelectorAll(".tabs a[data-view]")) {
    a.classList.toggle("active", a.dataset.view === name);
  }
}

function route() {
  let hash = location.hash.slice(1);
  try {
    hash = decodeURI(hash);
  } catch {
    // a malformed %-escape: use the hash as it is
  }
  if (hash.startsWith("entity/")) {
    showView("entity");
    showEntity(hash.slice("entity/".length));
  } else if (hash === "paths" || hash.startsWith("paths?")) {
    showView("paths");
    const q = new URLSearchParams(location.hash.split("?")[1] || "");
    fillPathForm(q);
    if (q.getAll("from").length && q.get("to")) runPaths(q);
    else setDownloads("the whole graph", null);
  } else if (hash === "sparql") {
    showView("sparql");
    showSparql();
  } else if (hash === "") {
    showView("home");
    setDownloads("the whole graph", null);
  } // any other hash is not ours (YASGUI's tab links): stay where we are
}

async function loadStats() {
  try {
    const s = await getJSON("/stats");
    const pg = "https://pactgraph.org/ontology#";
    const count = (c) => s.classes[pg + c] || 0;
    $("stats").replaceChildren(
      h("p", { class: "muted" },
        `${s.triples.toLocaleString()} triples in ${Object.keys(s.graphs).length} named graphs: `,
        `${count("State")} states, ${count("Person")} persons, ${count("Membership")} memberships, `,
        `${count("Sanction")} sanctions, ${count("Source")} sources.`),
    );
  } catch (err) {
    console.warn(err);
  }
}

// ---- suggestions as you type ---------------------------------------------------------------

/** Attach a suggestion list to `input`; `onPick(hit)` gets the chosen /search hit. */
function suggest(input, onPick) {
  const list = h("ul", { class: "suggestions", role: "listbox" });
  list.hidden = true;
  input.parentNode.append(list);
  let hits = [];
  let active = -1;
  let timer = 0;
  let asked = 0;

  const close = () => { list.hidden = true; hits = []; active = -1; };
  const pick = (i) => { const hit = hits[i]; close(); if (hit) onPick(hit); };

  function render() {
    list.replaceChildren(...hits.map((hit, i) => h("li",
      {
        class: i === active ? "active" : "",
        role: "option",
        // mousedown, not click: it comes before the input's blur closes the list
        onmousedown: (e) => { e.preventDefault(); pick(i); },
      },
      h("span", { class: "hit-label" }, hit.label),
      hit.matched && hit.matched !== hit.label ? h("span", { class: "hit-matched" }, ` “${hit.matched}”`) : null,
      classBadge(localId(hit.classes[0] || "").split("#").pop()),
    )));
    list.hidden = hits.length === 0;
  }

  async function lookup() {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) return close();
    try {
      const data = await getJSON("/search?" + new URLSearchParams({ q, limit: "8" }));
      if (mine !== asked) return; // a later keystroke has asked again
      hits = data.hits;
      active = hits.length ? 0 : -1;
      render();
    } catch (err) {
      console.warn(err);
    }
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookup, 120); });
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : hits.length - 1)) % hits.length;
      render();
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      e.stopImmediatePropagation();
      pick(active);
    } else if (e.key === "Escape") {
      close();
    }
  });
}

// ---- entity pages --------------------------------------------------------------------------

async function showEntity(id) {
  const box = $("entity");
  box.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  setDownloads("the whole graph", null); // until this entity is found: never the previous one's
  let e;
  try {
    e = await getJSON(entityUrl(id));
  } catch (err) {
    showError(box, err);
    return;
  }
  const here = localId(e.id);
  setDownloads(`around ${displayLabel(e)}`, new URLSearchParams({ around: here, depth: "1" }));

  const ids = Object.entries(e.identifiers || {});
  const header = h("div", { class: "entity-head" },
    h("h1", {}, displayLabel(e), " ", classBadge(e.class)),
    e.aliases.length ? h("p", { class: "aliases" }, "Also: ", e.aliases.map((a) => a.value).join(" · ")) : null,
    (e.properties || []).map((p) => h("p", { class: "property" },
      p.label === "comment" ? null : h("span", { class: "muted" }, humanize(p.label), ": "), p.value)),
    ids.length ? h("dl", { class: "identifiers" }, ids.map(([k, v]) => [
      h("dt", {}, IDENTIFIER_NAMES[k] || k.replace(/_/g, " ")),
      h("dd", {}, k === "wikidata"
        ? h("a", { href: `https://www.wikidata.org/wiki/${v}`, target: "_blank", rel: "noopener" }, v)
        : v),
    ])) : null,
    h("p", { class: "iri muted" }, e.id),
    h("p", { class: "actions" },
      h("a", { href: "#paths?" + new URLSearchParams({ from: here }) }, "Find paths from here →")),
  );

  const groups = Object.entries(e.facts || {});
  for (const [, rows] of groups) {
    for (const f of rows) {
      const said = hubVerb(e, f);
      if (said) hubNames.set(f.node.id, `${e.label} ${said.verb} ${said.others.map((w) => displayLabel(w)).join(", ")}`);
    }
  }
  const facts = groups.length
    ? groups.map(([group, rows]) => factTable(e, group, rows))
    : [h("p", { class: "muted" }, "No facts about this entity yet.")];

  const graph = h("div", { class: "graph entity-graph", id: "entity-graph" });
  box.replaceChildren(
    header,
    h("div", { class: "entity-body" },
      h("div", { class: "facts" }, h("h2", {}, "Facts"), facts),
      h("div", { class: "neighbourhood" }, h("h2", {}, "Around it"), graph,
        h("ul", { class: "neighbours" }, (e.neighbours || []).map((n) =>
          h("li", {}, entityLink(n), " ", displayLabel(n) === humanize(n.class) ? null : classBadge(n.class)))))),
  );
  describeSources(box);
  if (app.libs.cytoscape && (e.neighbours || []).length) drawNeighbourhood(graph, here);
  else graph.remove();
}

function factTable(entity, group, rows) {
  const body = rows.map((f) => {
    const node = f.node;
    const said = hubVerb(entity, f);
    const others = said ? said.rest : (f.with || []).filter((w) => w.id !== entity.id);
    return h("tr", { class: `fact status-row-${f.status}` },
      h("td", { class: "fact-text" },
        h("span", { class: "subject" }, displayLabel(entity)), " ",
        said
          // the verb leads to the hub itself (the membership, the sanction…), with its own sources
          ? [h("a", { href: entityHref(node.id), class: "reading hub-link", title: `${humanize(node.class)}: ${displayLabel(node)}` }, said.verb),
            " ", listed(said.others)]
          : [h("span", { class: "reading" }, f.label), " ", entityLink(node)],
        others.length ? h("div", { class: "with" }, others.map((w, i) => [
          i ? "; " : "", h("span", { class: "muted" }, humanize(w.role).toLowerCase(), ": "), entityLink(w),
        ])) : null,
        f.evidence && f.evidence.quote ? h("blockquote", {}, f.evidence.quote) : null),
      h("td", { class: "date" }, whenStarted(f)),
      h("td", { class: "date" }, whenEnded(f)),
      h("td", {}, statusBadge(f.status)),
      h("td", { class: "sources" }, sourceLinks(f.evidence)),
    );
  });
  return h("section", { class: "fact-group" },
    h("h3", {}, humanize(group)),
    h("table", { class: "fact-table" },
      h("colgroup", {}, h("col"), h("col", { class: "col-when" }), h("col", { class: "col-when" }),
        h("col", { class: "col-status" }), h("col", { class: "col-sources" })),
      h("thead", {}, h("tr", {}, ["Fact", "Start", "End", "Status", "Sources"].map((t) => h("th", {}, t)))),
      h("tbody", {}, body)));
}

/** A fact's start as its source gives it; an undated claim says so, and from when it is known. */
function whenStarted(f) {
  if (!f.undated) return f.start || "";
  return h("span", { class: "undated", title: "no date in its source: known to hold from its source's date on" },
    f.known_from ? `undated, known from ${f.known_from}` : "undated");
}

/** A fact's end: inclusive unless its source's ends are exclusive; "ongoing as of" a day is not an end. */
function whenEnded(f) {
  if (f.end) return f.end_exclusive ? `before ${f.end}` : f.end;
  return f.ongoing_as_of ? `ongoing as of ${f.ongoing_as_of}` : "";
}

function sourceLinks(evidence) {
  if (!evidence) return [];
  return (evidence.sources || []).map((s) => h("a",
    { class: "source", "data-source": s, title: `named graph: ${evidence.graph}`, target: "_blank", rel: "noopener" },
    localId(s).replace(/^source\//, "")));
}

/** Give each source link its title and URL, read with one SPARQL query. */
async function describeSources(root) {
  const links = [...root.querySelectorAll("a.source[data-source]")];
  const iris = [...new Set(links.map((a) => a.dataset.source))]
    .filter((s) => !app.sourceInfo.has(s) && /^[^<>"{}|^`\\\s]+$/.test(s));
  if (iris.length) {
    const query = `PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX pg: <https://pactgraph.org/ontology#>
SELECT ?s (SAMPLE(?l) AS ?label) (SAMPLE(?p) AS ?publisher) (SAMPLE(?u) AS ?url) WHERE {
  VALUES ?s { ${iris.map((s) => `<${s}>`).join(" ")} }
  OPTIONAL { ?s rdfs:label ?l } OPTIONAL { ?s dct:publisher ?p } OPTIONAL { ?s pg:url ?u }
} GROUP BY ?s`;
    try {
      const data = await sparqlJSON(query);
      for (const b of data.results.bindings) {
        app.sourceInfo.set(b.s.value, {
          label: b.label && b.label.value, publisher: b.publisher && b.publisher.value, url: b.url && b.url.value,
        });
      }
    } catch (err) {
      console.warn(err);
    }
  }
  for (const a of links) {
    const info = app.sourceInfo.get(a.dataset.source);
    if (!info) continue;
    const url = info.url && httpUrl(info.url);
    // a URL that is not http(s) stays text in the title: never an href
    a.title = [info.label, info.publisher, info.url && !url ? `URL: ${info.url}` : null, a.title]
      .filter(Boolean).join(" — ");
    if (url) a.href = url;
  }
}

async function drawNeighbourhood(container, id) {
  try {
    const data = await getJSON(`/neighbourhood/${localId(id).split("/").map(encodeURIComponent).join("/")}?depth=1`);
    if (data.elements.length > 400) {
      container.replaceChildren(h("p", { class: "muted" }, `Too many neighbours to draw (${data.elements.length} elements).`));
      return;
    }
    // Hubs (memberships, sanctions, agreements…) say what they are when pointed at: the facts
    // beside the drawing tell each of them, and a crowded ring of their labels would not read.
    const nodes = data.elements.filter((el) => !("target" in el.data)).map((el) => ({
      data: { ...el.data, label: displayLabel(el.data), hub: Boolean(el.data.hub), color: classColour(el.data.class) },
      classes: el.data.id === data.data.root ? "endpoint" : el.data.hub ? "quiet" : "",
    }));
    const ids = new Set(nodes.map((n) => n.data.id));
    const edges = data.elements.filter((el) => "target" in el.data);
    const drawable = edges.filter((el) => ids.has(el.data.source) && ids.has(el.data.target));
    if (drawable.length < edges.length) console.warn(`${edges.length - drawable.length} edges with unknown ends`);
    const elements = [...nodes, ...drawable.map((el) => ({ ...el, classes: "quiet" }))];
    const cy = drawGraph(container, elements, {
      // the entity in the middle, the hubs linking it on a ring, the actors it touches on an outer
      // ring, where their labels have room; an edge says what it is when a node is pointed at
      name: "concentric", animate: false, padding: 10, minNodeSpacing: 40,
      concentric: (n) => (n.hasClass("endpoint") ? 3 : n.data("hub") ? 2 : 1), levelWidth: () => 1,
    });
    readableLabels(cy);
    window.pactgraphNeighbourhoodCy = cy;
  } catch (err) {
    container.replaceChildren(h("p", { class: "muted" }, `Could not draw the neighbourhood: ${err.message}`));
  }
}

// ---- graph drawing -------------------------------------------------------------------------

const GRAPH_STYLE = [
  {
    selector: "node",
    style: {
      "background-color": "data(color)", label: "data(label)", width: 26, height: 26,
      "font-size": 11, color: "#222", "text-valign": "bottom", "text-margin-y": 4,
      "text-wrap": "wrap", "text-max-width": 130,
      "text-outline-color": "#fff", "text-outline-width": 2,
    },
  },
  {
    selector: "node[?hub]",
    style: {
      shape: "diamond", width: 20, height: 20, "border-width": 1.5, "border-color": "#444",
      "font-size": 9, "font-style": "italic", color: "#555",
    },
  },
  { selector: "node.endpoint", style: { width: 36, height: 36, "border-width": 3, "border-color": "#111", "font-weight": "bold", "font-size": 13 } },
  {
    selector: "edge",
    style: {
      width: 1.5, "line-color": "#9aa", "target-arrow-color": "#9aa", "target-arrow-shape": "triangle",
      "curve-style": "bezier", label: "data(label)", "font-size": 9, color: "#445",
      "text-rotation": "autorotate", "text-background-color": "#fff", "text-background-opacity": 0.85,
      "text-background-padding": 1,
    },
  },
  { selector: 'edge[status = "reported"]', style: { "line-style": "dashed", "line-color": "#d08c00", "target-arrow-color": "#d08c00" } },
  { selector: 'edge[status = "disputed"]', style: { "line-style": "dotted", "line-color": "#b05" } },
  { selector: 'edge[status = "denied"]', style: { "line-style": "dotted", "line-color": "#c33", "target-arrow-color": "#c33" } },
  { selector: ".quiet", style: { "text-opacity": 0 } },
  { selector: ".quiet.near", style: { "text-opacity": 1, "z-index": 10, "text-background-color": "#fff", "text-background-opacity": 0.9 } },
  { selector: ".faded", style: { opacity: 0.15 } },
  { selector: "node:selected", style: { "overlay-opacity": 0.15 } },
];

/** Draw `elements` into `container`; clicking a node opens its entity. */
function drawGraph(container, elements, layout) {
  container.replaceChildren();
  const cy = window.cytoscape({
    container, elements, style: GRAPH_STYLE, layout, minZoom: 0.2, maxZoom: 3,
  });
  if (cy.zoom() > 1.3) { // a few nodes: do not blow them up to fill the panel
    cy.zoom(1.3);
    cy.center();
  }
  cy.on("tap", "node", (evt) => { location.hash = entityHref(evt.target.id()); });
  cy.on("mouseover", "node", (evt) => {
    container.style.cursor = "pointer";
    evt.target.addClass("near").connectedEdges().addClass("near");
  });
  cy.on("mouseout", "node", (evt) => {
    container.style.cursor = "";
    evt.target.removeClass("near").connectedEdges().removeClass("near");
  });
  return cy;
}

/** Labels as large on screen as at zoom 1, whatever zoom fitting the drawing into its panel
 * took (a crowded neighbourhood fits at half size, where 11-pixel labels would read as 5). */
function readableLabels(cy) {
  const z = cy.zoom();
  cy.style()
    .selector("node").style({ "font-size": 11 / z, "text-max-width": 120 / z, "text-margin-y": 3 / z })
    .selector("node[?hub]").style({ "font-size": 10 / z })
    .selector("node.endpoint").style({ "font-size": 13 / z })
    .selector("edge").style({ "font-size": 10 / z })
    .update();
}

function legend(box, classes) {
  box.replaceChildren(
    ...[...classes].sort().map((c) => h("span", { class: "legend-item" },
      h("span", { class: app.hubClasses.has(c) ? "swatch hub" : "swatch", style: `--c: ${classColour(c)}` }),
      humanize(c))),
    h("span", { class: "legend-item muted" }, "◆ hub: an agreement, alliance, membership, sanction, support… that links actors · ● actor · dashed line: reported claim"),
  );
}

// ---- path finder ---------------------------------------------------------------------------

const pathSources = []; // [{value, label}] chosen as sources

function renderChips() {
  const box = $("path-from");
  for (const chip of box.querySelectorAll(".chip")) chip.remove();
  const input = $("path-from-input");
  pathSources.forEach((s, i) => box.insertBefore(h("span", { class: "chip", title: s.value },
    s.label,
    h("button", {
      type: "button", class: "chip-x", "aria-label": `remove ${s.label}`,
      onclick: () => { pathSources.splice(i, 1); renderChips(); },
    }, "×")), input));
}

function addSource(value, label) {
  if (!value || pathSources.some((s) => s.value === value)) return;
  pathSources.push({ value, label: label || value });
  renderChips();
}

function setupPathForm() {
  const from = $("path-from-input");
  const to = $("path-to");
  suggest(from, (hit) => { addSource(hit.local_id || hit.id, hit.label); from.value = ""; });
  suggest(to, (hit) => { to.value = hit.label; to.dataset.value = hit.local_id || hit.id; });
  to.addEventListener("input", () => { delete to.dataset.value; });
  from.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && from.value.trim()) { // a name typed but not picked: the server resolves it
      e.preventDefault();
      addSource(from.value.trim());
      from.value = "";
    } else if (e.key === "Backspace" && !from.value && pathSources.length) {
      pathSources.pop();
      renderChips();
    }
  });
  $("path-from").addEventListener("click", () => from.focus());
  $("path-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (from.value.trim()) { addSource(from.value.trim()); from.value = ""; }
    const q = pathParams();
    if (!q.getAll("from").length || !q.get("to")) {
      $("path-list").replaceChildren(h("p", { class: "error" }, "Pick at least one source and a target."));
      return;
    }
    const hash = "#paths?" + q;
    if (location.hash === hash) runPaths(q);
    else location.hash = hash;
  });
}

function pathParams() {
  const q = new URLSearchParams();
  for (const s of pathSources) q.append("from", s.value);
  const to = $("path-to");
  const target = to.dataset.value || to.value.trim();
  if (target) q.set("to", target);
  if ($("path-as-of").value) q.set("as_of", $("path-as-of").value);
  q.set("status", $("path-status").value);
  q.set("max_hops", $("path-hops").value || "4");
  q.set("limit", $("path-limit").value || "3");
  return q;
}

function fillPathForm(q) {
  const wanted = q.getAll("from");
  if (wanted.join("|") !== pathSources.map((s) => s.value).join("|")) {
    pathSources.length = 0;
    for (const v of wanted) pathSources.push({ value: v, label: v });
    renderChips();
  }
  const to = $("path-to");
  if (q.get("to") && (to.dataset.value || to.value) !== q.get("to")) {
    to.value = q.get("to");
    to.dataset.value = q.get("to");
  }
  if (q.has("as_of")) $("path-as-of").value = q.get("as_of");
  if (q.has("status")) $("path-status").value = q.get("status");
  if (q.has("max_hops")) $("path-hops").value = q.get("max_hops");
  if (q.has("limit")) $("path-limit").value = q.get("limit");
}

async function runPaths(q) {
  const list = $("path-list");
  list.replaceChildren(h("p", { class: "muted" }, "Searching…"));
  let data;
  try {
    data = await getJSON("/paths?" + q);
  } catch (err) {
    showError(list, err);
    setDownloads("the whole graph", null); // not the paths of an earlier query
    return;
  }
  // Show the resolved names in the form.
  data.query.from.forEach((n, i) => { if (pathSources[i]) pathSources[i].label = n.label; });
  renderChips();
  $("path-to").value = data.query.to.label;
  $("path-to").dataset.value = localId(data.query.to.id);

  const names = data.query.from.map((n) => n.label).join(" + ");
  setDownloads(`these paths (${names} → ${data.query.to.label})`, q);
  renderPathList(list, data);
  drawPaths(data);
}

function routeLine(path) {
  return h("p", { class: "route" }, path.nodes.map((n, i) => [
    i ? h("span", { class: "arrow" }, " → ") : null,
    entityLink(n),
  ]));
}

function renderPathList(list, data) {
  const when = data.query.as_of ? ` on ${data.query.as_of}` : "";
  const parts = data.paths.map((group) => {
    const source = data.query.from.find((n) => n.id === group.from) || { label: localId(group.from) };
    return h("section", { class: "path-group" },
      h("h3", {}, `${source.label} → ${data.query.to.label}`),
      group.paths.length
        ? h("ol", {}, group.paths.map((p) => h("li", {
          class: "path",
          onmouseenter: () => highlight(p),
          onmouseleave: () => highlight(null),
        }, h("p", { class: "sentence" }, p.text), h("p", { class: "muted hops" }, `${p.hops} hops`), routeLine(p))))
        : h("p", { class: "muted" }, `No path within ${data.query.max_hops} hops${when}.`));
  });
  if ((data.connections || []).length) {
    parts.push(h("section", { class: "path-group" },
      h("h3", {}, "What they share"),
      h("ul", { class: "connections" }, data.connections.map((c) => h("li", {},
        entityLink(c.node), ": ", h("span", { class: "sentence" }, c.text))))));
  }
  list.replaceChildren(...parts);
}

function pathElements(data) {
  const nodes = new Map();
  const edges = new Map();
  const ends = new Set([...data.query.from.map((n) => n.id), data.query.to.id]);
  for (const group of data.paths) {
    for (const p of group.paths) {
      for (const n of p.nodes) {
        nodes.set(n.id, {
          data: { id: n.id, label: displayLabel(n), class: n.class, hub: app.hubClasses.has(n.class), color: classColour(n.class) },
          classes: ends.has(n.id) ? "endpoint" : "",
        });
      }
      for (const e of p.edges) {
        const id = `${e.source}|${e.predicate}|${e.target}`;
        edges.set(id, { data: { id, source: e.source, target: e.target, label: e.label, status: e.status, start: e.start, end: e.end } });
      }
    }
  }
  return [...nodes.values(), ...edges.values()];
}

function drawPaths(data) {
  const box = $("path-graph");
  const elements = pathElements(data);
  if (!app.libs.cytoscape) {
    box.classList.add("unavailable");
    box.replaceChildren(h("p", { class: "muted" }, `The drawing is off: ${whyOff("cytoscape")}.`));
    return;
  }
  if (window.pactgraphCy) window.pactgraphCy.destroy();
  if (!elements.length) {
    window.pactgraphCy = null;
    box.replaceChildren(h("p", { class: "muted" }, "Nothing to draw."));
    return;
  }
  const roots = data.query.from.map((n) => n.id).filter((id) => elements.some((el) => el.data.id === id));
  window.pactgraphCy = drawGraph(box, elements, {
    name: "breadthfirst", directed: true, roots, spacingFactor: 1.05, padding: 30, animate: false,
    transform: (_node, pos) => ({ x: pos.y * 1.6, y: pos.x * 0.8 }), // left to right, sources first
  });
  legend($("path-legend"), new Set(elements.filter((el) => !el.data.source).map((el) => el.data.class)));
}

/** Fade everything but one path in the drawing; null shows them all. */
function highlight(path) {
  const cy = window.pactgraphCy;
  if (!cy) return;
  cy.elements().removeClass("faded");
  if (!path) return;
  const keep = new Set([...path.nodes.map((n) => n.id), ...path.edges.map((e) => `${e.source}|${e.predicate}|${e.target}`)]);
  cy.elements().filter((el) => !keep.has(el.id())).addClass("faded");
}

// ---- SPARQL --------------------------------------------------------------------------------

async function sparqlJSON(query) {
  return getJSON("/sparql", {
    method: "POST",
    headers: { Accept: "application/sparql-results+json" },
    body: new URLSearchParams({ query }),
  });
}

function showSparql() {
  if (app.libs.yasgui) startYasgui();
  else startPlainSparql();
  const query = app.yasgui ? app.yasgui.getTab().getQuery() : $("sparql-query").value;
  setSparqlDownloads(query);
}

function startYasgui() {
  if (app.yasgui) return;
  const endpoint = new URL("/sparql", location.href).href;
  const yasgui = new window.Yasgui($("yasgui"), {
    requestConfig: { endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null, // start from the examples every time, not from what the last visit left
    populateFromUrl: false,
    autoAddOnInit: false,
    endpointCatalogueOptions: { getData: () => [{ endpoint }] },
    yasqe: { autocompleters: ["prefixes", "variables"] }, // the others ask servers on the internet
  });
  EXAMPLES.forEach((ex, i) => {
    yasgui.addTab(i === 0, { ...window.Yasgui.Tab.getDefaults(yasgui), name: ex.name, yasqe: { value: ex.query } });
  });
  yasgui.on("query", (_y, tab) => setSparqlDownloads(tab.getQuery()));
  yasgui.on("tabSelect", (_y, tabId) => setTimeout(() => setSparqlDownloads(yasgui.getTab(tabId).getQuery())));
  app.yasgui = yasgui;
  window.pactgraphYasgui = yasgui;
}

function startPlainSparql() {
  const plain = $("sparql-plain");
  if (!plain.hidden) return;
  plain.hidden = false;
  const text = $("sparql-query");
  const choose = (ex) => {
    text.value = ex.query;
    for (const b of $("sparql-examples").children) b.classList.toggle("active", b.textContent === ex.name);
  };
  $("sparql-examples").replaceChildren(...EXAMPLES.map((ex) => h("button", {
    type: "button", class: "example", onclick: () => choose(ex),
  }, ex.name)));
  choose(EXAMPLES[0]);
  $("sparql-run").addEventListener("click", runPlainSparql);
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) runPlainSparql();
  });
}

async function runPlainSparql() {
  const query = $("sparql-query").value;
  const out = $("sparql-results");
  const status = $("sparql-status");
  status.textContent = "Running…";
  setSparqlDownloads(query);
  const started = performance.now();
  const res = await fetch("/sparql", {
    method: "POST",
    headers: { Accept: "application/sparql-results+json, text/turtle;q=0.9" },
    body: new URLSearchParams({ query }),
  });
  const took = `${Math.round(performance.now() - started)} ms`;
  const type = res.headers.get("content-type") || "";
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    status.textContent = "";
    out.replaceChildren(h("div", { class: "error" }, h("p", {}, body.error || `HTTP ${res.status}`),
      body.detail ? h("pre", {}, typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail, null, 2)) : null));
    return;
  }
  if (!type.includes("json")) {
    status.textContent = took;
    out.replaceChildren(h("pre", { class: "rdf" }, await res.text()));
    return;
  }
  const data = await res.json();
  if ("boolean" in data) {
    status.textContent = took;
    out.replaceChildren(h("p", { class: "boolean" }, data.boolean ? "yes (true)" : "no (false)"));
    return;
  }
  const vars = data.head.vars;
  const rows = data.results.bindings;
  status.textContent = `${rows.length} rows · ${took}`;
  out.replaceChildren(h("table", { class: "results" },
    h("thead", {}, h("tr", {}, vars.map((v) => h("th", {}, v)))),
    h("tbody", {}, rows.map((b) => h("tr", {}, vars.map((v) => h("td", {}, termCell(b[v]))))))));
}

function termCell(term) {
  if (!term) return "";
  if (term.type === "uri") {
    return /\/id\//.test(term.value) ? h("a", { href: entityHref(term.value) }, localId(term.value)) : term.value;
  }
  return term.value;
}

function setSparqlDownloads(query) {
  const graph = /^\s*(?:(?:PREFIX|BASE)[^\n]*\n|#[^\n]*\n|\s)*(CONSTRUCT|DESCRIBE)\b/i.test(query || "");
  const formats = graph ? ["turtle", "nquads", "trig", "jsonld"] : ["csv", "tsv", "json", "xml"];
  const names = { csv: "CSV", tsv: "TSV", json: "SPARQL JSON", xml: "SPARQL XML", ...FORMAT_NAMES };
  const box = $("downloads");
  box.replaceChildren(h("span", { class: "muted" }, "Download the results of this query: "),
    ...formats.map((f) => h("a", {
      class: "download", download: `pactgraph-query.${f === "turtle" ? "ttl" : f}`,
      href: "/sparql?" + new URLSearchParams({ query: query || "", format: f }),
    }, names[f])));
}

// ---- downloads -----------------------------------------------------------------------------

/** Export links for what is on screen: `params` scopes /export (around=, from=&to=…), null is everything. */
function setDownloads(what, params) {
  const box = $("downloads");
  box.replaceChildren(h("span", { class: "muted" }, `Download ${what}: `),
    ...(app.config.export_formats || []).map((f) => {
      const q = new URLSearchParams(params || []);
      q.set("format", f);
      return h("a", { class: "download", href: "/export?" + q, download: "" }, FORMAT_NAMES[f] || f);
    }));
}

boot();

r"""Spellings of SERVICE, LOAD and of the other things the query checks look for, written the way
an attacker writes them to slip past a scan that reads the text differently from the engine
(issue 18, point 1): UCHAR escapes inside IRIs (`\u0041`, `\U00000041`), a quote inside an
escaped IRI, the SERVICE IRI itself escaped, prefixed names and BASE, SILENT, comments and
strings beside the keyword, subqueries, EXISTS, lower and mixed case, no spaces.

SERVICE_SPELLINGS (queries), SERVICE_UPDATE_SPELLINGS (updates whose WHERE calls a service) and
LOAD_SPELLINGS (updates) are str.format templates with one `{canary}` placeholder: an
http://127.0.0.1:PORT/path URL (braces of the SPARQL are doubled). Every text is one the engine
parses: tests/reliability/test_query_checks.py checks that with pyoxigraph, so a spelling that
the engine would refuse anyway never counts as coverage.

The other lists trick the other checks the same way: FAKE_LIMIT (a text that ends in `LIMIT 5`
that is not the query's limit), VOLATILE (NOW(), RAND()… hidden from a scan), FORMS (the query's
real form behind a decoy) and deep_nesting(n) (brackets the scan does not count).
"""

from __future__ import annotations

# The tricks, each a prefix of a group graph pattern's content, or a whole clause.
# An IRI with a UCHAR escape: a scan without UCHAR in IRIREF reads "#>..." as a comment.
ESCAPED_IRI = r"BIND(<http://a/\u0041#> AS ?esc)"
ESCAPED_IRI_BIG_U = r"BIND(<http://a/\U00000041#> AS ?esc)"
# ... and one with a quote: the scan reads a string from here to the next quote.
ESCAPED_IRI_QUOTE = r"BIND(<http://a/\u0041'> AS ?esc)"
CLOSING_QUOTE = r"BIND(<http://a/'> AS ?esc2)"

SERVICE_SPELLINGS: list[str] = [
    # the plain ones (the old checks refuse these; they keep the corpus honest)
    "SELECT * WHERE {{ SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{canary}> {{ ?s ?p ?o }} }}",
    "select * where {{ service <{canary}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SeRvIcE <{canary}> {{ ?s ?p ?o }} }}",
    "SELECT*WHERE{{SERVICE<{canary}>{{?s ?p ?o}}}}",
    "SELECT * WHERE {{ SERVICE\t\n<{canary}>\n{{ ?s ?p ?o }} }}",
    # the escaped IRI before the keyword, on the same line (issue 18's own spelling)
    "SELECT * WHERE {{ " + ESCAPED_IRI + " SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ " + ESCAPED_IRI_BIG_U + " SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ " + ESCAPED_IRI + " SERVICE SILENT <{canary}> {{ ?s ?p ?o }} }}",
    "select * where {{ " + ESCAPED_IRI + " sErViCe <{canary}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ " + ESCAPED_IRI_QUOTE + " SERVICE <{canary}> {{ ?s ?p ?o }} " + CLOSING_QUOTE + " }}",
    # the SERVICE IRI itself written with escapes
    r"SELECT * WHERE {{ SERVICE <{canary}\u002Fx> {{ ?s ?p ?o }} }}",
    r"SELECT * WHERE {{ SERVICE <{canary}/\U00000078#> {{ ?s ?p ?o }} }}",
    # prefixed names and BASE (with and without escapes in the declaration)
    "PREFIX c: <{canary}/> SELECT * WHERE {{ SERVICE c:x {{ ?s ?p ?o }} }}",
    r"PREFIX c: <{canary}\u002F> SELECT * WHERE {{ SERVICE c:x {{ ?s ?p ?o }} }}",
    r"PREFIX c: <{canary}\u002F#> SELECT * WHERE {{ SERVICE c:x {{ ?s ?p ?o }} }}",
    "BASE <{canary}/> SELECT * WHERE {{ SERVICE <x> {{ ?s ?p ?o }} }}",
    r"BASE <{canary}/\u0023> SELECT * WHERE {{ SERVICE <x> {{ ?s ?p ?o }} }}",
    # comments and strings next to the keyword
    "SELECT * WHERE {{ # a comment <\n SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND('#' AS ?h) SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    'SELECT * WHERE {{ BIND("a\\"#" AS ?h) SERVICE <{canary}> {{ ?s ?p ?o }} }}',
    "SELECT * WHERE {{ BIND('''it's # not''' AS ?h) SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    'SELECT * WHERE {{ BIND("\\u0022#" AS ?h) SERVICE <{canary}> {{ ?s ?p ?o }} }}',
    "SELECT * WHERE {{ SERVICE#comment\n<{canary}> {{ ?s ?p ?o }} }}",
    # subqueries, EXISTS, OPTIONAL, UNION, other forms
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{canary}> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ "
    + ESCAPED_IRI
    + " {{ SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{canary}> {{ ?s ?p ?o }} }} }} }} }} }}",
    "SELECT * WHERE {{ BIND(1 AS ?x) FILTER EXISTS {{ SERVICE <{canary}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ BIND(1 AS ?x) OPTIONAL {{ " + ESCAPED_IRI + " SERVICE <{canary}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ {{ BIND(1 AS ?x) }} UNION {{ SERVICE <{canary}> {{ ?s ?p ?o }} }} }}",
    "ASK {{ " + ESCAPED_IRI + " SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ " + ESCAPED_IRI + " SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "DESCRIBE ?s WHERE {{ " + ESCAPED_IRI + " SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    # a service named by a variable
    "SELECT * WHERE {{ VALUES ?svc {{ <{canary}> }} SERVICE ?svc {{ ?s ?p ?o }} }}",
]

SERVICE_UPDATE_SPELLINGS: list[str] = [
    "INSERT {{ <urn:x> <urn:p> ?o }} WHERE {{ SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "INSERT {{ <urn:x> <urn:p> ?o }} WHERE {{ " + ESCAPED_IRI + " SERVICE <{canary}> {{ ?s ?p ?o }} }}",
    "PREFIX c: <{canary}/> DELETE {{ ?s ?p ?o }} WHERE {{ SERVICE SILENT c:x {{ ?s ?p ?o }} }}",
    "insert {{ <urn:x> <urn:p> ?o }} where {{ "
    + ESCAPED_IRI_QUOTE
    + " service <{canary}> {{ ?s ?p ?o }} "
    + CLOSING_QUOTE
    + " }}",
    r"INSERT DATA {{ <http://a/\u0041#> <urn:p> <urn:o> }} ; "
    "INSERT {{ <urn:x> <urn:p> ?o }} WHERE {{ SERVICE <{canary}> {{ ?s ?p ?o }} }}",
]

LOAD_SPELLINGS: list[str] = [
    "LOAD <{canary}>",
    "LOAD SILENT <{canary}>",
    "LOAD <{canary}> INTO GRAPH <urn:loaded>",
    "LOAD SILENT <{canary}> INTO GRAPH <urn:loaded>",
    "load <{canary}>",
    "LoAd <{canary}> into graph <urn:loaded>",
    r"LOAD <{canary}\u002Fx>",
    "PREFIX c: <{canary}/> LOAD c:x",
    r"PREFIX c: <{canary}\u002F> LOAD SILENT c:x INTO GRAPH c:g",
    "BASE <{canary}/> LOAD <x>",
    # behind an escaped IRI on the same line: the scan reads a comment from its '#'
    r"INSERT DATA {{ <http://a/\u0041#> <urn:p> <urn:o> }} ; LOAD <{canary}>",
    r"INSERT DATA {{ <http://a/\U00000041#> <urn:p> <urn:o> }} ; LOAD SILENT <{canary}> INTO GRAPH <urn:g>",
    r"INSERT DATA {{ <http://a/\u0041'> <urn:p> <urn:o> }} ; LOAD <{canary}> ; "
    r"INSERT DATA {{ <http://a/'> <urn:p> <urn:o> }}",
    # comments and strings beside it
    "# LOAD nothing\nLOAD <{canary}>",
    "INSERT DATA {{ <urn:a> <urn:p> '#' }} ; LOAD <{canary}>",
    'INSERT DATA {{ <urn:a> <urn:p> """LOAD""" }} ; LOAD <{canary}>',
    "LOAD#comment\n<{canary}>",
]

# --------------------------------------------------------------------------- the other checks

# Texts whose last words are "LIMIT 5" but whose solutions are not limited: a scan that takes
# the trailing LIMIT for the query's own lets millions of rows through the fast path.
# {big} is a pattern with many solutions.
FAKE_LIMIT: list[str] = [
    # The scan reads a string from the quote in the escaped IRI to the one in the comment, then
    # "} LIMIT 5" as code; the engine reads an IRI, then a comment.
    r"SELECT ?s ?o WHERE {{ {big} FILTER(<http://a/\u0041'> != <urn:x>) }} # ' }} LIMIT 5",
    r"SELECT ?s ?o WHERE {{ {big} FILTER(<http://a/\U00000041'> != <urn:x>) }} # ' }} LIMIT 5",
    r"select ?s ?o where {{ {big} BIND(<http://a/\u0041'> AS ?e) }} # ' }} limit 5",
    # a comparison the scan reads as an IRI `<'>`, then a string up to the comment's quote
    "SELECT ?s ?o WHERE {{ {big} FILTER(?o<'>' || true) }} # ' }} LIMIT 5",
]

# Queries whose answer changes without the data: never cached. The function hides from a scan.
VOLATILE: list[str] = [
    "SELECT ?r WHERE {{ " + ESCAPED_IRI + " BIND(RAND() AS ?r) }}",
    "SELECT ?r WHERE {{ " + ESCAPED_IRI + " BIND(STRUUID() AS ?r) }}",
    "SELECT ?r WHERE {{ " + ESCAPED_IRI_QUOTE + " BIND(UUID() AS ?r) " + CLOSING_QUOTE + " }}",
    "SELECT ?r WHERE {{ " + ESCAPED_IRI + " BIND(BNODE() AS ?r) }}",
    "SELECT ?r WHERE {{ BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<RAND()||?b>0) BIND(RAND() AS ?r) }}",
    "SELECT (RAND() AS ?r) WHERE {{ " + ESCAPED_IRI + " }}",
]

# (query, form): the form the engine answers with, behind a decoy the scan reads instead.
FORMS: list[tuple[str, str]] = [
    ("PREFIX x: <http://a/\\u0041#> SELECT * WHERE {{ ?s ?p ?o }} LIMIT 1", "select"),
    ("BASE <http://a/\\u0041#> ASK {{ ?s ?p ?o }}", "ask"),
    ("PREFIX x: <http://a/\\u0041'> CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }} LIMIT 3 # '", "graph"),
    ("PREFIX x: <http://a/\\u0041#> CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }} LIMIT 3", "graph"),
    ("PREFIX x: <http://a/\\u0041#> DESCRIBE <urn:nothing>", "graph"),
    ("BASE <http://a/\\u0041#> ASK {{ }}", "ask"),
]


def deep_nesting(depth: int) -> list[str]:
    """Queries and updates (the kind says which) nesting brackets `depth` deep behind the tricks."""
    parens = "(" * depth + "1" + ")" * depth
    groups = "{" * depth + "}" * depth
    return [
        "SELECT * WHERE { " + ESCAPED_IRI + " BIND(" + parens + " AS ?x) }",
        "SELECT * WHERE { " + ESCAPED_IRI + " " + groups + " }",
        "SELECT * WHERE { " + ESCAPED_IRI_QUOTE + " BIND(" + parens + " AS ?x) " + CLOSING_QUOTE + " }",
        r"SELECT * WHERE { BIND(<http://a/\U00000041#> AS ?e) " + groups + " }",
    ]


def deep_update_nesting(depth: int) -> list[str]:
    parens = "(" * depth + "1" + ")" * depth
    groups = "{" * depth + "}" * depth
    return [
        r"INSERT { <urn:a> <urn:p> ?x } WHERE { BIND(<http://a/\u0041#> AS ?e) BIND(" + parens + " AS ?x) }",
        r"INSERT DATA { <http://a/\u0041#> <urn:p> <urn:o> } ; INSERT { <urn:a> <urn:p> <urn:o> } WHERE { "
        + groups
        + " }",
    ]

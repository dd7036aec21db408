"""The SPARQL 1.1 Protocol: query (GET, POST form, POST sparql-query) and update (validated:
graph/writes.py), the service description, and the predeclared prefixes for the web explorer."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from pactgraph.api.negotiation import choose, documented_200
from pactgraph.api.result_cache import CachedAnswer, ResultCache, etag_matches
from pactgraph.api.state import read_body, require_token, state
from pactgraph.graph import Kind, PactgraphError, writes
from pactgraph.graph.sparql import PREFIXES, both_formats, is_volatile
from pactgraph.graph.workers import ClientGone

router = APIRouter(tags=["sparql"])

SERVICE_DESCRIPTION = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
[] a sd:Service ;
   sd:endpoint <{endpoint}> ;
   sd:supportedLanguage sd:SPARQL11Query, sd:SPARQL11Update ;
   sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
       <http://www.w3.org/ns/formats/SPARQL_Results_CSV>, <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
       <http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/N-Triples>,
       <http://www.w3.org/ns/formats/N-Quads>, <http://www.w3.org/ns/formats/TriG>,
       <http://www.w3.org/ns/formats/JSON-LD>, <http://www.w3.org/ns/formats/RDF_XML> ;
   sd:feature sd:UnionDefaultGraph ;
   sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
   # The prefixes a query may use without a PREFIX line (SHACL's vocabulary for declaring them).
   sh:declare {declarations} .
"""
"""The default graph is the merge of every named graph and the store's own (sd:UnionDefaultGraph)."""


def service_description(endpoint: str) -> str:
    declarations = ",\n       ".join(
        f'[ sh:prefix "{p}" ; sh:namespace "{iri}"^^xsd:anyURI ]' for p, iri in PREFIXES.items()
    )
    return SERVICE_DESCRIPTION.format(endpoint=endpoint, declarations=declarations)


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"the {what} is not UTF-8 text (byte {exc.start})") from None


_FORMAT_PARAMS = ("format", "output", "results")  # SPARQLWrapper sends all three; Fuseki reads output=


def _too_large(limit: int) -> PactgraphError:
    return PactgraphError(
        Kind.TOO_LARGE,
        f"the query is over the limit of {limit} bytes (PACTGRAPH_MAX_QUERY, within the request "
        "body limit PACTGRAPH_MAX_BODY); split it, or move large VALUES blocks into the data",
    )


async def _query_body(request: Request, limit: int) -> bytes:
    """A POST body that carries one query, refused with 413 as soon as it is known to pass
    `limit` bytes: from its declared length, else while it is read (never read whole first)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _params(request: Request) -> tuple[str | None, list[str], list[str], list[str]]:
    """query, default-graph-uri, named-graph-uri and the format names asked for (format=,
    output=, results=), from the URL and, for POST, the body. A query over PACTGRAPH_MAX_QUERY
    bytes is 413 before the rest of it is read."""
    settings = state(request).settings
    limit = min(settings.max_query, settings.max_body)
    q = request.query_params
    query = q.get("query")
    defaults, named = q.getlist("default-graph-uri"), q.getlist("named-graph-uri")
    formats = [v for name in _FORMAT_PARAMS for v in q.getlist(name) if v]
    if request.method == "POST":
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/sparql-query":
            query = _utf8(await _query_body(request, limit), "query")
        elif ctype == "application/x-www-form-urlencoded":
            # Percent-encoding at most triples a query's bytes (plus the other fields): the
            # decoded query is held to the limit below. Decoded off the event loop.
            body = await _query_body(request, min(3 * limit + 65536, settings.max_body))
            form = await run_in_threadpool(parse_qs, _utf8(body, "form"), keep_blank_values=True)
            query = form["query"][0] if form.get("query") else query
            defaults += form.get("default-graph-uri", [])
            named += form.get("named-graph-uri", [])
            formats = [v for name in _FORMAT_PARAMS for v in form.get(name, []) if v] + formats
        else:
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"POST /sparql takes application/sparql-query or a form (application/x-www-form-urlencoded), "
                f"not {ctype or 'no content type'}",
            )
    if query is not None and len(query) > limit // 4 and len(query.encode("utf-8", "surrogatepass")) > limit:
        raise _too_large(limit)
    return query, defaults, named, formats


def _formats(accept: str | None, formats: list[str]) -> str:
    """The format for each kind of answer the query may give (the engine's result picks one, not
    the query's text), 406 when neither can be carried."""
    names: list[str | None] = []
    refusal: PactgraphError | None = None
    for kind in ("select", "graph"):
        try:
            names.append(choose(kind, accept, formats, lenient=True))
        except PactgraphError as exc:
            if exc.kind != Kind.NOT_ACCEPTABLE:
                raise
            names.append(None)
            refusal = refusal or exc
    if names == [None, None] and refusal is not None:
        raise refusal
    return both_formats(names[0], names[1])


_RESULTS = documented_200(
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    description="solutions, a boolean or a graph, by Accept; without a query the service description",
)


@router.get("/sparql", summary="SPARQL 1.1 query", responses=_RESULTS)
@router.post("/sparql", summary="SPARQL 1.1 query", responses=_RESULTS)
async def sparql(request: Request, query: Annotated[str | None, Query()] = None) -> Response:
    """Answer a SPARQL query on the store's native engine; results by Accept or format=.

    Without a query, the service description (Turtle)."""
    text, defaults, named, formats = await _params(request)
    if not text:
        return Response(service_description(str(request.url.replace(query=""))), media_type="text/turtle")
    fmt = "\x1f".join(formats) or None
    st = state(request)
    accept = request.headers.get("accept")
    cache: ResultCache = request.app.state.result_cache
    key = None
    version = st.store.version
    if cache.enabled:
        key = cache.key(version, text, accept, fmt, defaults, named, st.settings.max_rows)
        hit = cache.get(version, key)
        if hit is not None:  # the same text passed the safety checks when it was cached
            if etag_matches(request.headers.get("if-none-match"), hit.etag):
                return Response(status_code=304, headers=_validators(hit.etag))
            headers = _validators(hit.etag) | dict(hit.headers) | _CACHE_HIT
            return Response(hit.body, media_type=hit.media_type, headers=headers)
    # The safety checks (SERVICE, LOAD, nesting) run in the worker, off the event loop and
    # within the time limit, on every reading of the text the engine could make.
    name = _formats(accept, formats)
    if key is not None and (
        is_volatile(text) if len(text) <= 4096 else await run_in_threadpool(is_volatile, text)
    ):
        key = None
    if key is not None and etag_matches(request.headers.get("if-none-match"), key, star=False):
        # The client holds this answer (its ETag names the store version): it is still current.
        # `*` is no such proof: only a cached answer (above) matches it.
        return Response(status_code=304, headers=_validators(key))
    try:
        result = await st.workers.answer(
            text,
            name,
            defaults or None,
            named or None,
            st.settings.query_timeout,
            request.is_disconnected,
            st.settings.max_rows,
        )
    except ClientGone:
        return Response(status_code=499)
    extra: dict[str, str] = {}
    if result.truncated is not None:
        extra["X-Pactgraph-Truncated"] = f"max_rows={result.truncated}"
    headers = {"Vary": "Accept"} | extra
    # Kept only when no write finished meanwhile: then the answer is of the version in its key.
    if key is not None and st.store.version == version:
        cache.put(version, key, CachedAnswer(result.body, result.media_type, key, tuple(extra.items())))
        headers = _validators(key) | extra | _CACHE_MISS
    return Response(result.body, media_type=result.media_type, headers=headers)


_CACHE_HIT = {"X-Pactgraph-Cache": "hit"}
_CACHE_MISS = {"X-Pactgraph-Cache": "miss"}


def _validators(etag: str) -> dict[str, str]:
    """Headers of a cacheable answer: clients may keep it, and revalidate before each use."""
    return {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}


@router.get("/sparql/prefixes", summary="The prefixes every query may use without a PREFIX line")
async def prefixes() -> dict[str, str]:
    """Prefix name -> namespace IRI (pg:, id:, rdf:, rdfs:, owl:, xsd:, skos:, dcterms:, prov:,
    schema:, wd:, wdt:); the web explorer's SPARQL editor reads them from here."""
    return dict(PREFIXES)


@router.post(
    "/update",
    summary="SPARQL 1.1 update",
    dependencies=[Depends(require_token)],
    status_code=204,
    response_class=Response,
)
async def update(
    request: Request,
    validate: Annotated[
        bool, Query(description="false: skip the SHACL check (recorded in each graph written)")
    ] = True,
) -> Response:
    """Run a SPARQL 1.1 Update (form `update=` or application/sparql-update) as one change:
    checked against the SHACL shapes on what the store would hold after it (422 with the report,
    nothing written, when it breaks them), then made in one transaction. Triples without GRAPH
    go to the store's own default graph."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request)
    if ctype == "application/sparql-update":
        text = _utf8(body, "update")
    elif ctype == "application/x-www-form-urlencoded":
        form = parse_qs(_utf8(body, "form"))
        text = (form.get("update") or [""])[0]
        if (form.get("validate") or [""])[0].lower() == "false":
            validate = False
    else:
        raise PactgraphError(
            Kind.BAD_INPUT, "POST /update takes application/sparql-update or a form with update="
        )
    if not text.strip():
        raise PactgraphError(Kind.BAD_INPUT, "no update given")
    # The safety checks (SERVICE, LOAD, nesting) run where the update is worked out: in the
    # sandboxed child, off the event loop and within the time limit (graph/update.py check_syntax).
    st = state(request)
    # The update is worked out in a sandboxed child killed at the query time limit (nothing is
    # written then); the check and the write after it keep the longer bound.
    timeout, memory = st.settings.query_timeout, st.settings.query_memory_mib
    await st.run(
        lambda: writes.update(st.store, text, validate=validate, timeout=timeout, memory_mib=memory),
        timeout=max(st.settings.query_timeout, 300),
    )
    return Response(status_code=204)

"""The SPARQL 1.1 Protocol: query (GET, POST form, POST sparql-query) and update."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, Response

from api.negotiation import choose
from api.state import read_body, require_token, state
from graph import Kind, PactgraphError, refuse_unsafe
from graph.sparql import query_form
from graph.workers import ClientGone

router = APIRouter(tags=["sparql"])

SERVICE_DESCRIPTION = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix pg: <https://pactgraph.org/ontology#> .
[] a sd:Service ;
   sd:endpoint <{endpoint}> ;
   sd:supportedLanguage sd:SPARQL11Query ;
   sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
       <http://www.w3.org/ns/formats/SPARQL_Results_CSV>, <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
       <http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/N-Triples>,
       <http://www.w3.org/ns/formats/JSON-LD>, <http://www.w3.org/ns/formats/RDF_XML> ;
   sd:feature sd:UnionDefaultGraph ;
   sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> .
"""


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PactgraphError(Kind.BAD_INPUT, f"the {what} is not UTF-8 text (byte {exc.start})") from None


async def _params(request: Request) -> tuple[str | None, list[str], list[str], str | None]:
    """query, default-graph-uri, named-graph-uri and format from the URL and, for POST, the body."""
    q = request.query_params
    query = q.get("query")
    defaults, named = q.getlist("default-graph-uri"), q.getlist("named-graph-uri")
    fmt = q.get("format")
    if request.method == "POST":
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await read_body(request)
        if ctype == "application/sparql-query":
            query = _utf8(body, "query")
        elif ctype == "application/x-www-form-urlencoded":
            form = parse_qs(_utf8(body, "form"), keep_blank_values=True)
            query = form["query"][0] if form.get("query") else query
            defaults += form.get("default-graph-uri", [])
            named += form.get("named-graph-uri", [])
            fmt = form["format"][0] if form.get("format") else fmt
        else:
            raise PactgraphError(
                Kind.BAD_INPUT,
                f"POST /sparql takes application/sparql-query or a form (application/x-www-form-urlencoded), "
                f"not {ctype or 'no content type'}",
            )
    return query, defaults, named, fmt


_RESULTS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "application/sparql-results+json": {},
            "application/sparql-results+xml": {},
            "text/csv": {},
            "text/tab-separated-values": {},
            **{
                m: {}
                for m in (
                    "text/turtle",
                    "application/n-triples",
                    "application/n-quads",
                    "application/trig",
                    "application/ld+json",
                    "application/rdf+xml",
                )
            },
        },
        "description": "solutions, a boolean or a graph, by Accept; without a query the service description",
    }
}


@router.get("/sparql", summary="SPARQL 1.1 query", responses=_RESULTS)
@router.post("/sparql", summary="SPARQL 1.1 query", responses=_RESULTS)
async def sparql(request: Request, query: Annotated[str | None, Query()] = None) -> Response:
    """Answer a SPARQL query on the store's native engine; results by Accept or format=.

    Without a query, the service description (Turtle)."""
    text, defaults, named, fmt = await _params(request)
    if not text:
        body = SERVICE_DESCRIPTION.format(endpoint=str(request.url.replace(query="")))
        return Response(body, media_type="text/turtle")
    refuse_unsafe(text)
    name = choose(query_form(text), request.headers.get("accept"), fmt)
    st = state(request)
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
    headers = {"Vary": "Accept"}
    if result.truncated is not None:
        headers["X-Pactgraph-Truncated"] = f"max_rows={result.truncated}"
    return Response(result.body, media_type=result.media_type, headers=headers)


@router.post(
    "/update",
    summary="SPARQL 1.1 update",
    dependencies=[Depends(require_token)],
    status_code=204,
    response_class=Response,
)
async def update(request: Request) -> Response:
    """Run a SPARQL 1.1 Update in one transaction (form `update=` or application/sparql-update)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request)
    if ctype == "application/sparql-update":
        text = _utf8(body, "update")
    elif ctype == "application/x-www-form-urlencoded":
        text = (parse_qs(_utf8(body, "form")).get("update") or [""])[0]
    else:
        raise PactgraphError(
            Kind.BAD_INPUT, "POST /update takes application/sparql-update or a form with update="
        )
    if not text.strip():
        raise PactgraphError(Kind.BAD_INPUT, "no update given")
    refuse_unsafe(text, "update")
    st = state(request)
    await st.run(lambda: st.store.update(text))
    return Response(status_code=204)

"""A SPARQL 1.1 server as the store's backend (`sparql:QUERY_URL[,UPDATE_URL]`).

Reads are idempotent, so they are retried with backoff when the server is unreachable or
answers 5xx; writes are sent once, and retried only when the connection was refused before
anything was sent. Failures become domain errors the API maps to 502/503/504.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from pactgraph.graph.errors import Kind, PactgraphError

SPARQL_JSON = "application/sparql-results+json"


def term(binding: Mapping[str, Any]) -> Node:
    """An rdflib term from one value of the SPARQL JSON results format."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    lang = binding.get("xml:lang")
    datatype = binding.get("datatype")
    return Literal(value, lang=lang, datatype=URIRef(datatype) if datatype and not lang else None)


class Endpoint:
    """HTTP access to one SPARQL server: query, update and Graph Store-free bulk writes."""

    def __init__(
        self, query_url: str, update_url: str | None, timeout: float = 60.0, retries: int = 3
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.timeout = timeout
        self.retries = retries
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def _fail(self, exc: Exception, url: str) -> PactgraphError:
        if isinstance(exc, httpx.TimeoutException):
            return PactgraphError(Kind.UPSTREAM_TIMEOUT, f"the SPARQL server at {url} did not answer in time")
        if isinstance(exc, httpx.TransportError):
            return PactgraphError(Kind.UNAVAILABLE, f"the SPARQL server at {url} is not reachable ({exc})")
        return PactgraphError(Kind.UPSTREAM, f"the SPARQL server at {url} failed: {exc}")

    def query(
        self,
        sparql: str,
        accept: str = SPARQL_JSON,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """POST a query (form-encoded); retried with backoff on connection errors and 5xx."""
        data: dict[str, Any] = {"query": sparql}
        if default_graphs:
            data["default-graph-uri"] = default_graphs
        if named_graphs:
            data["named-graph-uri"] = named_graphs
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(
                    self.query_url, data=data, headers={"Accept": accept}, timeout=timeout or self.timeout
                )
            except httpx.TimeoutException as exc:
                raise self._fail(exc, self.query_url) from exc
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise self._fail(exc, self.query_url) from exc
            else:
                if response.status_code < 500 or attempt == self.retries:
                    return self._checked(response, "query")
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def update(self, sparql: str) -> None:
        """POST an update once; only a refused connection (nothing sent) is tried again."""
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(self.update_url, data={"update": sparql})
            except httpx.ConnectError as exc:
                if attempt == self.retries:
                    raise self._fail(exc, self.update_url) from exc
                time.sleep(delay)
                delay *= 2
                continue
            except httpx.HTTPError as exc:
                raise self._fail(exc, self.update_url) from exc
            self._checked(response, "update")
            return

    def _checked(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code < 300:
            return response
        text = response.text[:500].strip()
        if response.status_code in (400, 422):
            raise PactgraphError(Kind.BAD_INPUT, f"the SPARQL server refused the {what}: {text}")
        if response.status_code in (401, 403):
            raise PactgraphError(
                Kind.UPSTREAM, f"the SPARQL server refused our credentials ({response.status_code})"
            )
        raise PactgraphError(Kind.UPSTREAM, f"the SPARQL server answered {response.status_code}: {text}")

    def select(
        self, sparql: str, default_graphs: list[str] | None = None, named_graphs: list[str] | None = None
    ) -> tuple[list[str], list[dict[str, Node]]]:
        """Variables and rows of a SELECT, as rdflib terms (over the protocol's dataset, if given)."""
        body = self.query(sparql, SPARQL_JSON, default_graphs, named_graphs).json()
        names = list(body.get("head", {}).get("vars", []))
        rows = [{k: term(v) for k, v in b.items()} for b in body.get("results", {}).get("bindings", [])]
        return names, rows

    def close(self) -> None:
        self._client.close()

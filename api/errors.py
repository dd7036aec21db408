"""Map the domain exception to JSON errors with the right status; never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from pactgraph.graph import Kind, PactgraphError

STATUS = {
    Kind.BAD_INPUT: 400,
    Kind.UNAUTHORIZED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.NOT_ACCEPTABLE: 406,
    Kind.AMBIGUOUS: 409,
    Kind.BUSY: 409,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.INVALID: 422,
    Kind.EVALUATION: 500,  # the SPARQL 1.1 Protocol's answer to a query the service failed to execute
    Kind.UNAVAILABLE: 503,
    Kind.NO_SPACE: 507,
    Kind.TIMEOUT: 503,
    Kind.UPSTREAM: 502,
    Kind.UPSTREAM_TIMEOUT: 504,
}
log = logging.getLogger("pactgraph")


class ErrorBody(BaseModel):
    """Every error: what went wrong, in a sentence, and structured detail where there is some."""

    error: str
    detail: Any = None


# Documented on every route (OpenAPI), so clients and schema-driven tools know the error shape;
# 422 replaces FastAPI's validation body, which this app never sends (bad parameters are 400).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "bad query, input or parameters",
        401: "a write without a bearer token",
        403: "a wrong token, or writes are off",
        404: "unknown entity, graph or route",
        405: "method not allowed",
        406: "no acceptable result format",
        409: "an ambiguous name (the candidates in detail), a busy store, or a graph another source holds",
        413: "request body over PACTGRAPH_MAX_BODY",
        422: "data that breaks the SHACL shapes (the report in detail)",
        500: "a well-formed query the engine could not evaluate (an unknown function…)",
        503: "query time limit, or the store unavailable",
        507: "the disk is full: the write was not made",
    }.items()
}


def error_response(status: int, error: str, detail: object = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(PactgraphError)
    async def domain(_: Request, exc: PactgraphError) -> JSONResponse:
        response = error_response(STATUS.get(exc.kind, 400), exc.message, exc.detail)
        if exc.kind == Kind.TOO_LARGE:  # the rest of the body is unread: close, so the client stops sending
            response.headers["Connection"] = "close"
        retry_after = getattr(exc, "retry_after", None)  # a busy server says when to come back
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return error_response(400, "invalid request parameters", problems)

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route for {request.url.path!r}; the routes are listed at /docs"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return error_response(exc.status_code, message, None)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal error", type(exc).__name__)

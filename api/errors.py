"""Map the domain exception to JSON errors with the right status; never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from graph import Kind, PactgraphError

STATUS = {
    Kind.BAD_INPUT: 400,
    Kind.UNAUTHORIZED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.NOT_ACCEPTABLE: 406,
    Kind.AMBIGUOUS: 409,
    Kind.BUSY: 409,
    Kind.TOO_LARGE: 413,
    Kind.INVALID: 422,
    Kind.UNAVAILABLE: 503,
    Kind.TIMEOUT: 503,
    Kind.UPSTREAM: 502,
    Kind.UPSTREAM_TIMEOUT: 504,
}
log = logging.getLogger("pactgraph")


def error_response(status: int, error: str, detail: object = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(PactgraphError)
    async def domain(_: Request, exc: PactgraphError) -> JSONResponse:
        return error_response(STATUS.get(exc.kind, 400), exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"where": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return error_response(400, "invalid request parameters", problems)

    @app.exception_handler(HTTPException)
    async def http(_: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), None)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal error", type(exc).__name__)

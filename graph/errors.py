"""The one domain exception of pactgraph; interfaces map its kind to an exit code or an HTTP status."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What went wrong, in terms a caller can act on."""

    BAD_INPUT = "bad_input"
    INVALID = "invalid"  # well-formed data that breaks the SHACL shapes
    EVALUATION = "evaluation"  # a well-formed query the engine could not evaluate (e.g. an unknown function)
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too_large"
    NOT_ACCEPTABLE = "not_acceptable"
    TIMEOUT = "timeout"
    BUSY = "busy"  # the store is held by another process
    CONFLICT = "conflict"  # the write would replace what another source holds (say replace)
    NO_SPACE = "insufficient_storage"  # the disk is full: the write was not made
    UNAVAILABLE = "unavailable"
    UPSTREAM = "upstream"  # the remote SPARQL server failed
    UPSTREAM_TIMEOUT = "upstream_timeout"  # the remote SPARQL server did not answer in time


class PactgraphError(Exception):
    """An error with a kind, a one-line message and optional structured detail."""

    def __init__(self, kind: Kind, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message

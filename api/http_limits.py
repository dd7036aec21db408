"""How long `pactgraph serve` waits for a client: uvicorn's limits, and the request-head time-out
uvicorn lacks.

uvicorn closes an idle keep-alive connection (timeout_keep_alive), but once a client has sent
one byte of a request it waits for the rest for ever: a "slow-loris" client that sends a header
byte a second holds its connection, and enough of them hold every connection the server may
have. Here the server's HTTP protocol (uvicorn's own, h11 or httptools) gets a timer: from the
moment a connection opens, and again each time a response has been sent on it, the next request
head (request line and headers) must be complete within PACTGRAPH_HEADER_TIMEOUT seconds, or the
connection is answered 408 and closed; a head still incomplete after MAX_HEAD bytes is answered
431 and closed (h11 bounds a head itself; httptools, the faster one, does not).

The body has its own time-out (`BodyTimeout`, ASGI middleware on every route,
PACTGRAPH_BODY_TIMEOUT): from the app's first read of a request's body, the whole body must arrive
within that many seconds, or the read fails with 408. It is timed where the app reads, not in the
protocol: a server busy elsewhere stops reading (flow control), and a client that cannot send then
is not slow.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pactgraph.api.settings import Settings

_TIMEOUT_BODY = json.dumps(
    {"error": "the request head (request line and headers) did not arrive in time", "detail": None}
).encode()
REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + f"content-length: {len(_TIMEOUT_BODY)}\r\n\r\n".encode()
    + _TIMEOUT_BODY
)
# The largest request head (request line and headers) a connection may send: room for a long
# SPARQL query in a GET URL, bounded memory per connection. h11 refuses more itself
# (h11_max_incomplete_event_size); httptools has no such bound (uvicorn kept 400 MB of headers
# sent in 3 s), so the protocol counts the bytes of a head still incomplete.
MAX_HEAD = 256 * 1024
_TOO_LARGE_BODY = json.dumps(
    {
        "error": f"the request head (request line and headers) is over {MAX_HEAD} bytes; "
        "send a long query in a POST body",
        "detail": None,
    }
).encode()
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    + f"connection: close\r\ncontent-length: {len(_TOO_LARGE_BODY)}\r\n\r\n".encode()
    + _TOO_LARGE_BODY
)


def with_head_timeout(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class `base` (H11Protocol or HttpToolsProtocol), closing a
    connection whose next request head is not complete `seconds` after the connection opened or
    its last response was sent (408), or is still incomplete after MAX_HEAD bytes (431). Both
    classes set `self.cycle` to a new request/response cycle when a head is complete, and call
    `on_response_complete` when a response is sent: the timer is armed at those points and
    disarmed by a new cycle."""

    class HeadTimeout(base):  # type: ignore[misc, valid-type]
        _head_timer: asyncio.TimerHandle | None = None
        _armed_for: Any = None  # the cycle that was current when the timer was armed
        _head_bytes = 0  # bytes received since, while no new request head is complete

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not self._armed_for:
                self._disarm()  # a request head arrived: the app has the request now
            elif self._head_timer is not None:
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD and not self.transport.is_closing():
                    self._disarm()
                    if self.cycle is None or not self.cycle.more_body:
                        self.transport.write(HEAD_TOO_LARGE)
                    self.transport.close()

        def on_response_complete(self) -> None:
            before = self.cycle
            super().on_response_complete()
            if self.cycle is before and not self.transport.is_closing():
                self._arm()  # (a pipelined request already in has its head: nothing to wait for)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._armed_for = self.cycle
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(seconds, self._head_timed_out)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self.transport.is_closing():
                return
            if self.cycle is None or (self.cycle.response_complete and not self.cycle.more_body):
                # Waiting for a new request, not for the rest of one already answered (a body
                # that timed out, api/state.py's 408): say why before closing.
                self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()

    HeadTimeout.__name__ = HeadTimeout.__qualname__ = f"HeadTimeout{base.__name__}"
    return HeadTimeout


def uvicorn_limits(settings: Settings, http: str) -> dict[str, Any]:
    """uvicorn.Config arguments that bound what clients may hold: the HTTP protocol ("h11" or
    "httptools") with the request-head time-out, the keep-alive time-out, the number of
    connections and requests at once (past it, 503), and the largest request head h11 buffers."""
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base: type[asyncio.Protocol] = HttpToolsProtocol
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol
    return {
        "http": with_head_timeout(base, settings.header_timeout),
        "timeout_keep_alive": settings.keep_alive,
        "limit_concurrency": settings.max_connections,
        "h11_max_incomplete_event_size": MAX_HEAD,  # h11's own bound on a head (400 past it)
    }


class BodyTimeout:
    """ASGI middleware: a request body must arrive whole within `seconds` of the app's first read
    of it; past that the read raises HTTPException(408), answered as every error is (JSON), and
    nothing is done with the part that came. Reads after the body is complete (a streaming
    answer listening for the client to go away) are not timed."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        done = False
        size = 0

        async def timed() -> Message:
            nonlocal deadline, done, size
            if done:
                return await receive()
            if deadline is None:
                deadline = loop.time() + self.seconds
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise HTTPException(
                    408,
                    f"the request body did not arrive within {self.seconds:g} s "
                    f"(PACTGRAPH_BODY_TIMEOUT; {size} bytes came): nothing was done",
                ) from None
            size += len(message.get("body", b""))
            done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, timed, send)

"""The web explorer: the page at `/`, its own files, and the browser libraries built into the wheel.

The libraries (Cytoscape.js, YASGUI) are never committed: the wheel's build (setup.py) installs
them with `npm ci` from api/static/package-lock.json into `static/vendor/`, with a manifest that
lists them or says why they are missing (no npm at build time). They are served under `/vendor/`.
Without them the page still searches, shows entities, lists paths as sentences and runs SPARQL
in a textarea, and says which features are off and why.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pactgraph.api.state import state
from pactgraph.graph import Kind, PactgraphError
from pactgraph.graph.export import FORMATS as EXPORT_FORMATS
from pactgraph.graph.labels import hub_verbs

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGE_DIR = STATIC_DIR / "explorer"
# Read at each request (not captured at import): an editable install's build may fill it later.
VENDOR_DIR = STATIC_DIR / "vendor"
LIBRARIES = ("cytoscape", "yasgui")  # what the page knows how to use
NOT_BUILT = (
    "this copy of pactgraph has no built browser libraries (a source checkout: "
    "`pip install -e .` with npm on the PATH builds them)"
)


def vendor_manifest() -> tuple[dict[str, list[str]], str | None]:
    """The libraries built into this copy (name -> file names) and, when some are missing, why."""
    try:
        manifest = json.loads((VENDOR_DIR / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}, NOT_BUILT
    built = {
        name: files
        for name, files in (manifest.get("libraries") or {}).items()
        if name in LIBRARIES and all((VENDOR_DIR / name / f).is_file() for f in files)
    }
    missing = manifest.get("missing") or (None if len(built) == len(LIBRARIES) else NOT_BUILT)
    return built, missing


def vendor_files() -> dict[str, list[str] | None]:
    """For each library, the URLs the page loads, or None when it is not built into this copy."""
    built, _ = vendor_manifest()
    return {
        name: [f"/vendor/{name}/{f}" for f in built[name]] if name in built else None for name in LIBRARIES
    }


@lru_cache(maxsize=8)
def _files(directory: Path) -> StaticFiles:
    return StaticFiles(directory=directory, check_dir=False)


async def _serve(directory: Path, path: str, request: Request) -> Response:
    # StaticFiles refuses paths that leave `directory` and answers 304s to conditional requests;
    # it is called from a route rather than mounted so it travels inside `router`.
    response: Response = await _files(directory).get_response(path, request.scope)
    return response


@router.api_route("/", methods=["GET", "HEAD"])
async def page() -> FileResponse:
    """The explorer: one page, no build step."""
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html")


@router.get("/explorer/config")
async def config(request: Request) -> dict[str, Any]:
    """What the page needs to know about this server: built libraries, hub classes and the verbs
    that tell a hub between two actors (the words of path sentences), export formats."""
    st = state(request)

    def hub_classes() -> list[str]:
        proj = st.projection()
        return sorted({proj.classes[n] for n in proj.hubs if n in proj.classes})

    return {
        "vendor": vendor_files(),
        "vendor_missing": vendor_manifest()[1],
        "hub_classes": await st.run(hub_classes),
        "hub_verbs": hub_verbs(),
        "export_formats": list(EXPORT_FORMATS),
    }


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static(path: str, request: Request) -> Response:
    """The page's own script and style sheet."""
    return await _serve(PAGE_DIR, path, request)


@router.api_route("/vendor/{name}/{path:path}", methods=["GET", "HEAD"])
async def vendor(name: str, path: str, request: Request) -> Response:
    """A file of a library built into this copy; 404 (saying why) when it is not there."""
    if name not in LIBRARIES:
        raise PactgraphError(Kind.NOT_FOUND, f"no library {name!r}; there are {', '.join(LIBRARIES)}")
    built, missing = vendor_manifest()
    if name not in built:
        raise PactgraphError(Kind.NOT_FOUND, f"{name} is not built into this copy: {missing}")
    return await _serve(VENDOR_DIR / name, path, request)


# ------------------------------------------------------------------------- Content-Security-Policy

# The explorer runs only its own files: no inline script, no eval, no script or connection to
# another origin, no plugin, no framing. Were stored data ever to get markup into the page (a
# javascript: URL in a link, an injected element), the browser would refuse to run it. Styles may
# be inline: the libraries set them (CodeMirror, Cytoscape), and a style runs no code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from a CDN and configure them in an inline
# script: that script is allowed by its hash (worked out from the page sent), the CDN for those
# two pages only.
DOC_PAGES = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def docs_csp(html: bytes) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m[1]).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {_CDN} {hashes}; "
        f"style-src 'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com; "
        f"img-src 'self' data: {_CDN} https://fastapi.tiangolo.com; "
        "font-src 'self' data: https://fonts.gstatic.com; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: every answer says not to guess its type (nosniff) and carries the
    explorer's Content-Security-Policy (an answer that is no page ignores it; one opened in a
    browser tab, a Turtle graph or a JSON error, can then run nothing either); the API docs
    pages get theirs, with their inline script's hash."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] not in DOC_PAGES:

            async def send_with(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableHeaders(scope=message)
                    headers.setdefault("content-security-policy", CSP)
                    headers.setdefault("x-content-type-options", "nosniff")
                await send(message)

            await self.app(scope, receive, send_with)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def send_docs(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(body)
            headers = MutableHeaders(scope=start)
            headers["content-security-policy"] = docs_csp(page)
            headers.setdefault("x-content-type-options", "nosniff")
            await send(start)
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, send_docs)

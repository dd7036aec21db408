"""The web explorer: the page at `/`, its own files, and the browser libraries built into the wheel.

The libraries (Cytoscape.js, YASGUI) are never committed: the wheel's build (setup.py) installs
them with `npm ci` from api/static/package-lock.json into `static/vendor/`, with a manifest that
lists them or says why they are missing (no npm at build time). They are served under `/vendor/`.
Without them the page still searches, shows entities, lists paths as sentences and runs SPARQL
in a textarea, and says which features are off and why.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

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

"""The web explorer: the page at `/`, its own files, and the npm-installed browser libraries.

The libraries (Cytoscape.js, YASGUI) are never committed: `npm ci` in `api/static` installs
them into `api/static/node_modules`, and they are served under `/vendor/`. Without them the
page still searches, shows entities, lists paths as sentences and runs SPARQL in a textarea.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from pactgraph.api.state import state
from pactgraph.graph import Kind, PactgraphError
from pactgraph.graph.export import FORMATS as EXPORT_FORMATS

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGE_DIR = STATIC_DIR / "explorer"
# Read at each request (not captured at import), so `npm ci` works without a restart.
NODE_MODULES = STATIC_DIR / "node_modules"

# name -> (folder inside node_modules that is served, the files the page loads from it)
VENDOR: dict[str, tuple[str, tuple[str, ...]]] = {
    "cytoscape": ("cytoscape/dist", ("cytoscape.min.js",)),
    "yasgui": ("@zazuko/yasgui/build", ("yasgui.min.js", "yasgui.min.css")),
}


def npm_command() -> str:
    """The command that installs the browser libraries for this installed copy of pactgraph."""
    return f"npm --prefix {STATIC_DIR} ci"


def vendor_files() -> dict[str, list[str] | None]:
    """For each library, the URLs the page loads, or None when it is not installed."""
    out: dict[str, list[str] | None] = {}
    for name, (folder, files) in VENDOR.items():
        present = all((NODE_MODULES / folder / f).is_file() for f in files)
        out[name] = [f"/vendor/{name}/{f}" for f in files] if present else None
    return out


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
    """What the page needs to know about this server: installed libraries and hub classes."""
    st = state(request)

    def hub_classes() -> list[str]:
        proj = st.projection()
        return sorted({proj.classes[n] for n in proj.hubs if n in proj.classes})

    return {
        "vendor": vendor_files(),
        "npm": npm_command(),
        "hub_classes": await st.run(hub_classes),
        "export_formats": list(EXPORT_FORMATS),
    }


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static(path: str, request: Request) -> Response:
    """The page's own script and style sheet."""
    return await _serve(PAGE_DIR, path, request)


@router.api_route("/vendor/{name}/{path:path}", methods=["GET", "HEAD"])
async def vendor(name: str, path: str, request: Request) -> Response:
    """A file of an npm-installed library; 404 when the library is not installed."""
    if name not in VENDOR:
        raise PactgraphError(Kind.NOT_FOUND, f"no library {name!r}; there are {', '.join(VENDOR)}")
    return await _serve(NODE_MODULES / VENDOR[name][0], path, request)

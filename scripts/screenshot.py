"""Regenerate docs/explorer.png: the web explorer in Debian chromium, showing the path query
"how did Russia and Iran connect to Syria on 2024-11-01?".

    python scripts/screenshot.py [--out docs/explorer.png]

It starts a real uvicorn over a fresh Oxigraph store in a temporary folder, as the browser
tests do, and needs what they need: `apt-get install chromium`, `pip install playwright`,
and the explorer's npm assets (`npm --prefix api/static ci`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from pactgraph.api.routers import web  # noqa: E402
from pactgraph.api.settings import Settings  # noqa: E402
from tests.api.conftest import run_server  # noqa: E402
from tests.web.browser import launch  # noqa: E402

QUERY = "#paths?from=Russia&from=Iran&to=Syria&as_of=2024-11-01&status=denied&max_hops=4&limit=2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "explorer.png")
    args = parser.parse_args()
    if not all(web.vendor_files().values()):
        print(f"the explorer's npm assets are missing: run `{web.npm_command()}`", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = launch(playwright)
        # The server starts after the browser and stops before it (see tests/web/test_explorer.py).
        server = run_server(Settings(store=f"oxigraph:{Path(tmp) / 'store'}", token=None))
        url = next(server)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "/" + QUERY)
            page.wait_for_function("window.pactgraphCy && window.pactgraphCy.nodes().length > 0")
            page.wait_for_timeout(300)  # let the canvas paint its labels
            page.screenshot(path=str(args.out))
        finally:
            next(server, None)  # stops uvicorn and its query workers
            browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

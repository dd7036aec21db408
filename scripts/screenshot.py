"""Screenshots of the web explorer at 1280x800 in Debian chromium: docs/explorer.png, the README's
picture (the path query "how did Russia and Iran connect to Syria on 2024-11-01?"), and with
--pages DIR one of each other page too (home, an entity, search suggestions, the SPARQL editor).

    python scripts/screenshot.py [--out docs/explorer.png] [--pages DIR] [--pactgraph PATH]

It runs `pactgraph serve` as a user does (the console script on the PATH, or --pactgraph) from a
temporary folder over a fresh Oxigraph store, so the explorer's libraries must be built into
that install (npm on the PATH when it was installed). It needs `apt-get install chromium` and
`pip install playwright`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.installed import serving  # noqa: E402
from tests.web.browser import launch  # noqa: E402

SIZE = {"width": 1280, "height": 800}
PATHS = "#paths?from=Russia&from=Iran&to=Syria&as_of=2024-11-01&status=denied&max_hops=4&limit=2"


def shoot(page: Page, url: str, hash: str, ready: str, out: Path) -> None:
    page.goto(url + "/" + hash)
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function(ready)
    page.wait_for_timeout(400)  # let the canvas paint its labels
    page.screenshot(path=str(out))
    print(f"wrote {out}")


def pages(page: Page, url: str, out: Path) -> None:
    """The other pages: home, Iran's entity page, the suggestions for a typo, the SPARQL editor."""
    out.mkdir(parents=True, exist_ok=True)
    shoot(page, url, "", "document.querySelector('#stats p') !== null", out / "home.png")
    neighbourhood = "window.pactgraphNeighbourhoodCy && window.pactgraphNeighbourhoodCy.nodes().length > 0"
    shoot(page, url, "#entity/state/IRN", neighbourhood, out / "entity.png")
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#search", "Irna")
    page.wait_for_selector(".suggestions:visible li")
    page.wait_for_timeout(200)
    page.screenshot(path=str(out / "search.png"))
    print(f"wrote {out / 'search.png'}")
    page.fill("#search", "")
    shoot(page, url, "#sparql", "document.querySelector('#yasgui .yasqe') !== null", out / "sparql.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "explorer.png", help="the README's picture"
    )
    parser.add_argument("--pages", type=Path, help="a folder for a picture of each other page")
    parser.add_argument("--pactgraph", default=shutil.which("pactgraph"), help="the console script to run")
    args = parser.parse_args()
    if not args.pactgraph:
        print("no `pactgraph` on the PATH: pip install . (with npm on the PATH)", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        cwd = Path(tmp)
        with serving(Path(args.pactgraph), f"oxigraph:{cwd / 'store'}", cwd) as url:
            missing = httpx.get(url + "/explorer/config").json()["vendor_missing"]
            if missing:
                print(f"this pactgraph has no explorer libraries: {missing}", file=sys.stderr)
                return 1
            browser = launch(playwright)
            try:
                page = browser.new_page(viewport=SIZE)
                ready = "window.pactgraphCy && window.pactgraphCy.nodes().length > 0"
                shoot(page, url, PATHS, ready, args.out)
                if args.pages:
                    pages(page, url, args.pages)
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

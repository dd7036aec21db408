"""The explorer's routes over HTTP, without a browser: the page, its files, the libraries."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from pactgraph.api.routers import web
from tests.conftest import missing

NO_NPM = "npm was not on the PATH when this copy of pactgraph was built"


def test_root_serves_the_page(explorer_url: str) -> None:
    r = httpx.get(explorer_url + "/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<script src="/static/explorer.js">' in r.text
    assert "cdn" not in r.text.lower() and "https://" not in r.text  # nothing from the internet


def test_page_files_are_served_and_cached(explorer_url: str) -> None:
    r = httpx.get(explorer_url + "/static/explorer.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    again = httpx.get(explorer_url + "/static/explorer.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert httpx.get(explorer_url + "/static/explorer.css").status_code == 200
    assert httpx.head(explorer_url + "/").status_code == 200


def test_paths_outside_the_static_folder_are_refused(explorer_url: str) -> None:
    for path in (
        "/static/..%2F..%2Fapp.py",
        "/static/%2e%2e/%2e%2e/app.py",
        "/vendor/cytoscape/..%2F..%2F..%2Fapp.py",
        "/vendor/cytoscape/..%2Fmanifest.json",
    ):
        r = httpx.get(explorer_url + path)
        assert r.status_code == 404, path
        assert r.json()["error"]


def test_unknown_library_is_a_json_404(explorer_url: str) -> None:
    r = httpx.get(explorer_url + "/vendor/leaflet/leaflet.js")
    assert r.status_code == 404
    assert "cytoscape" in r.json()["error"]


def test_config_lists_the_built_libraries_and_the_hub_classes(explorer_url: str) -> None:
    cfg = httpx.get(explorer_url + "/explorer/config").json()
    assert {"Membership", "Sanction", "Support", "StrategicPartnership"} <= set(cfg["hub_classes"])
    assert "State" not in cfg["hub_classes"]
    assert cfg["export_formats"] == ["graphml", "gexf", "cyjs", "turtle", "nquads", "trig", "jsonld"]
    if cfg["vendor_missing"] == NO_NPM:
        missing("npm was not on the PATH when the test wheel was built: apt-get install npm")
    assert cfg["vendor"] == {
        "cytoscape": ["/vendor/cytoscape/cytoscape.min.js"],
        "yasgui": ["/vendor/yasgui/yasgui.min.js", "/vendor/yasgui/yasgui.min.css"],
    }
    assert cfg["vendor_missing"] is None
    for files in cfg["vendor"].values():
        for url in files:
            r = httpx.get(explorer_url + url)
            assert r.status_code == 200 and len(r.content) > 10_000, url


def test_a_copy_built_without_npm_says_why(
    checkout_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"libraries": {}, "missing": NO_NPM}))
    monkeypatch.setattr(web, "VENDOR_DIR", tmp_path)  # as the build leaves it without npm
    cfg = httpx.get(checkout_url + "/explorer/config").json()
    assert cfg["vendor"] == {"cytoscape": None, "yasgui": None}
    assert cfg["vendor_missing"] == NO_NPM
    r = httpx.get(checkout_url + "/vendor/cytoscape/cytoscape.min.js")
    assert r.status_code == 404
    assert r.json()["error"] == f"cytoscape is not built into this copy: {NO_NPM}"


def test_a_checkout_without_a_build_says_how_to_build(
    checkout_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "VENDOR_DIR", tmp_path / "vendor")  # no manifest at all
    cfg = httpx.get(checkout_url + "/explorer/config").json()
    assert cfg["vendor"] == {"cytoscape": None, "yasgui": None}
    assert "pip install -e ." in cfg["vendor_missing"] and "npm" in cfg["vendor_missing"]

"""The explorer's routes over HTTP, without a browser: the page, its files, the libraries."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pactgraph.api.routers import web
from tests.conftest import missing


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
    ):
        r = httpx.get(explorer_url + path)
        assert r.status_code == 404, path
        assert r.json()["error"]


def test_unknown_library_is_a_json_404(explorer_url: str) -> None:
    r = httpx.get(explorer_url + "/vendor/leaflet/leaflet.js")
    assert r.status_code == 404
    assert "cytoscape" in r.json()["error"]


def test_config_names_the_real_npm_command_and_the_hub_classes(explorer_url: str) -> None:
    cfg = httpx.get(explorer_url + "/explorer/config").json()
    static = Path(web.__file__).resolve().parent.parent / "static"
    assert cfg["npm"] == f"npm --prefix {static} ci"
    assert (static / "package.json").is_file() and (static / "package-lock.json").is_file()
    assert {"Membership", "Sanction", "Support", "StrategicPartnership"} <= set(cfg["hub_classes"])
    assert "State" not in cfg["hub_classes"]
    assert cfg["export_formats"] == ["graphml", "gexf", "cyjs", "turtle", "nquads", "trig", "jsonld"]


def test_without_npm_assets_the_libraries_are_reported_missing(
    explorer_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "NODE_MODULES", tmp_path)
    cfg = httpx.get(explorer_url + "/explorer/config").json()
    assert cfg["vendor"] == {"cytoscape": None, "yasgui": None}
    r = httpx.get(explorer_url + "/vendor/cytoscape/cytoscape.min.js")
    assert r.status_code == 404
    assert r.json()["error"]


def test_installed_libraries_are_served(explorer_url: str) -> None:
    cfg = httpx.get(explorer_url + "/explorer/config").json()
    if not all(cfg["vendor"].values()):
        missing(f"the explorer's npm assets are not installed: run `{web.npm_command()}`")
    for files in cfg["vendor"].values():
        for url in files:
            r = httpx.head(explorer_url + url)
            assert r.status_code == 200, url

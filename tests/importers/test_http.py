"""POST /import/{dataset} and the time questions over HTTP, on a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pactgraph.api.settings import Settings
from pactgraph.ontology import ENTITY_BASE
from tests.api.conftest import run_server
from tests.conftest import seeded_copy
from tests.importers.conftest import DATA

TOKEN = "importer-token-0123456789"
E = ENTITY_BASE


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Iterator[str]:
    path = seeded_copy(bundled_seed, tmp_path_factory.mktemp("import-http") / "store")
    yield from run_server(Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=30))


def test_import_needs_the_token_and_refuses_a_wrong_file(url: str) -> None:
    body = (DATA / "states_small.csv").read_bytes()
    assert httpx.post(f"{url}/import/cow-states", content=body).status_code == 401
    wrong = httpx.post(
        f"{url}/import/reign",
        content=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert wrong.status_code == 400
    assert "missing column(s) leadid" in wrong.json()["error"]


def test_import_then_ask(url: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(
        f"{url}/import/cow-states",
        content=(DATA / "states_small.csv").read_bytes(),
        headers=auth,
        timeout=120,
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 6
    r = httpx.post(
        f"{url}/import/reign?name=leaderlist_3_21.csv",
        content=(DATA / "leaderlist_3_21.csv").read_bytes(),
        headers=auth,
        timeout=120,
    )
    assert r.status_code == 200, r.text
    assert r.json()["graph"] == "https://pactgraph.org/graph/reign-2021-03"
    leaders = httpx.get(f"{url}/leaders", params={"state": "Germany", "date": "1985-01-01"}).json()
    assert [(x["person"]["label"], x["end"]) for x in leaders["leaders"]] == [("Kohl", "1990-09")]
    assert leaders["sources"][0]["id"] == E + "source/reign-2021-03"
    states = httpx.get(f"{url}/states", params={"date": "1990-10-02", "source": "cow-states"}).json()
    assert states["per_source"][0]["count"] == 4
    un = httpx.get(f"{url}/un-membership", params={"state": "Russia", "date": "2000-01-01"}).json()
    assert un["member"] is True  # from the bundled membership
    spells = httpx.get(f"{url}/spells/person/vladimir-putin", params={"source": "reign"}).json()
    assert [s["predecessor"]["person"]["label"] for s in spells["spells"]] == ["Yeltsin"]
    page = httpx.get(f"{url}/entities/Germany", params={"as_of": "1985-01-01"}).json()
    assert page["as_of"]["in_state_system"] is True
    assert [x["person"]["label"] for x in page["as_of"]["leaders"]] == ["Kohl"]
    bad = httpx.get(f"{url}/leaders", params={"state": "Germany", "date": "1985-13-01"})
    assert bad.status_code == 400 and "not a date" in bad.json()["error"]

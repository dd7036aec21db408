"""POST /import/atop (both files, multipart) and the alliance, agreement and sanction questions over
HTTP, on a real uvicorn server with the bundled data."""

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

TOKEN = "alliances-token-0123456789"
E = ENTITY_BASE
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Iterator[str]:
    path = seeded_copy(bundled_seed, tmp_path_factory.mktemp("alliances-http") / "store")
    yield from run_server(Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=30))


def test_import_atop_and_gsdb_then_ask(url: str) -> None:
    files = [
        ("file", (p.name, p.read_bytes(), "text/csv"))
        for p in (DATA / "atop_member_small.csv", DATA / "atop_alliance_small.csv")
    ]
    one = httpx.post(f"{url}/import/atop", files=files[:1], headers=AUTH, timeout=120)
    assert one.status_code == 400 and "ATOP needs both of its files" in one.json()["error"]
    r = httpx.post(f"{url}/import/atop", files=files, headers=AUTH, timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["graph"] == "https://pactgraph.org/graph/atop-4.01" and r.json()["notes"]
    r = httpx.post(
        f"{url}/import/gsdb", content=(DATA / "gsdb_small.csv").read_bytes(), headers=AUTH, timeout=120
    )
    assert r.status_code == 200, r.text

    members = httpx.get(f"{url}/alliances/members", params={"alliance": "NATO", "date": "1998-01-01"}).json()
    assert {p["source"]["id"]: p["count"] for p in members["per_source"]} == {
        E + "source/atop-4.01": 3,
        E + "source/nato-member-countries": 16,
    }
    readings = httpx.get(f"{url}/readings", params={"alliance": "NATO", "member": "Poland"}).json()
    assert [
        (p["source"]["id"].rsplit("/", 1)[-1], p["start"]) for p in readings["relations"][0]["per_source"]
    ] == [
        ("atop-4.01", "1997-12-16"),
        ("nato-member-countries", "1999-03-12"),
    ]
    allied = httpx.get(
        f"{url}/alliances/allied", params={"x": "Poland", "y": "USA", "date": "1998-06-01", "source": "atop"}
    ).json()
    assert allied["allied"] is True and allied["defence"] is True
    parties = httpx.get(
        f"{url}/agreements/parties", params={"agreement": "agreement/russia-iran-cspa-2025"}
    ).json()
    assert [p["signer"]["label"] for p in parties["per_source"][0]["parties"]] == [
        "Masoud Pezeshkian",
        "Vladimir Putin",
    ]
    between = httpx.get(f"{url}/agreements/between", params={"x": "Russia", "y": "Iran"}).json()
    assert between["count"] == 1
    of = httpx.get(f"{url}/agreements/of", params={"party": "Iran", "date": "2025-02-01"}).json()
    assert of["per_source"][0]["agreements"][0]["agreement"]["id"] == E + "agreement/russia-iran-cspa-2025"
    sanctions = httpx.get(
        f"{url}/sanctions", params={"target": "Russia", "year": "2014", "sender": "EU", "source": "gsdb"}
    ).json()
    assert [s["case_id"] for s in sanctions["sanctions"]] == ["9001"]
    assert [s["id"] for s in sanctions["sources"]] == [E + "source/gsdb-v3"]


def test_bad_input_is_a_json_error(url: str) -> None:
    bad = httpx.get(f"{url}/sanctions", params={"target": "Russia", "measure": "cyber"})
    assert bad.status_code == 400 and "measure is one of" in bad.json()["error"]
    bad = httpx.get(f"{url}/alliances/members", params={"alliance": "NATO", "date": "1998-13-01"})
    assert bad.status_code == 400 and "not a date" in bad.json()["error"]
    unknown = httpx.get(
        f"{url}/alliances/members", params={"alliance": "Atlantis Pact", "date": "1998-01-01"}
    )
    assert unknown.status_code == 404

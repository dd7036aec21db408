"""Facts added by hand over HTTP: the CSV template posted to /ingest is found by /search,
/entities, /paths and /sparql; an id described nowhere is a 422 naming its line; undated
claims are marked and kept out of answers as of a day before their source."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pactgraph.api.settings import Settings
from tests.api.conftest import run_server
from tests.conftest import seeded_copy

TOKEN = "facts-token-0123456789"
ID = "https://pactgraph.org/id/"
PG = "https://pactgraph.org/ontology#"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, bundled_seed: Path) -> Iterator[str]:
    """A server of its own (the bundled data, then the facts these tests add)."""
    path = seeded_copy(bundled_seed, tmp_path_factory.mktemp("facts") / "store")
    yield from run_server(Settings(store=f"oxigraph:{path}", token=TOKEN))


def post_csv(url: str, name: str, text: str) -> httpx.Response:
    return httpx.post(
        url + "/ingest",
        params={"name": name},
        content=text.encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"},
        timeout=120,
    )


def template() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pactgraph.api.cli", "template", "csv"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_an_unknown_id_is_a_422_naming_its_line_and_nothing_is_written(url: str) -> None:
    before = httpx.get(url + "/stats").json()["triples"]
    text = (
        "kind,subject,object,start,end,status,source,quote,detail\n"
        "membership,state/IRN,org/brics,2024-01-01,,confirmed,source/wikipedia-brics,,\n"
        "membership,state/IRN,org/nowhere,2024-01-01,,confirmed,source/wikipedia-brics,,\n"
    )
    r = post_csv(url, "bad.csv", text)
    assert r.status_code == 422, r.text
    body = r.json()
    assert (
        "bad.csv: line 3, column object: org/nowhere is not described in this batch or in the store"
        in body["error"]
    )
    assert body["detail"] == [
        {
            "where": "bad.csv: line 3, column object",
            "id": ID + "org/nowhere",
            "message": "bad.csv: line 3, column object: org/nowhere is not described in this batch or in the store",
        }
    ]
    assert httpx.get(url + "/stats").json()["triples"] == before
    r = post_csv(url, "bad.csv", "kind,subject,object,colour\nmembership,state/IRN,org/brics,red\n")
    assert r.status_code == 400 and "unknown column(s) colour" in r.json()["error"]


def test_the_template_posted_to_ingest_is_found_everywhere(url: str) -> None:
    r = post_csv(url, "facts.csv", template())
    assert r.status_code == 200, r.text
    assert list(r.json()["graphs"]) == ["https://pactgraph.org/graph/facts"]

    hits = httpx.get(url + "/search", params={"q": "Kim Jong-un"}).json()["hits"]
    assert hits[0]["id"] == ID + "person/kim-jong-un"

    page = httpx.get(url + "/entities/agreement/russia-dprk-cspa-2024").json()
    assert page["class"] == "StrategicPartnership"
    assert {f["node"]["id"] for f in page["facts"]["signatory"]} == {ID + "state/RUS", ID + "state/PRK"}

    found = httpx.get(
        url + "/paths", params={"from": "North Korea", "to": "Russia", "max_hops": 2, "as_of": "2024-07-01"}
    ).json()
    texts = [p["text"] for p in found["paths"][0]["paths"]]
    assert (
        "North Korea supported Russia (undated, known from 2024-06-19) [unn-russia-dprk-partnership-2024-06-19]."
        in texts
    )
    support = next(
        e for p in found["paths"][0]["paths"] for e in p["edges"] if e["predicate"] == PG + "supporter"
    )
    assert (support["undated"], support["known_from"], support["start"]) == (True, "2024-06-19", None)
    earlier = httpx.get(
        url + "/paths", params={"from": "North Korea", "to": "Russia", "max_hops": 2, "as_of": "2024-06-18"}
    ).json()
    assert not any("supported" in p["text"] for p in earlier["paths"][0]["paths"])

    query = (
        f"SELECT ?target WHERE {{ ?s <{PG}imposer> <{ID}state/USA> ; <{PG}target> ?target ; "
        f'<{PG}start> "2019-11"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> ; '
        f'<{PG}startLatest> ?from FILTER(?from <= "2019-12-01"^^<http://www.w3.org/2001/XMLSchema#date>) }}'
    )
    rows = httpx.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert [b["target"]["value"] for b in rows.json()["results"]["bindings"]] == [ID + "person/ebrahim-raisi"]

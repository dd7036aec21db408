"""docs/queries.md stays true: every query on the page, run as written on every backend with the
bundled data, gives exactly the answer shown under it (a table, row for row, in order)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pactgraph.graph import Store
from pactgraph.graph.sparql import answer

PAGE = Path(__file__).resolve().parents[1] / "docs" / "queries.md"
# A sparql block, then (after prose, perhaps) the first table before the next block.
_BLOCK = re.compile(r"```sparql\n(.*?)```(.*?)(?=```sparql|\Z)", re.S)


def examples() -> list[tuple[str, list[str], list[list[str]]]]:
    """(query, header, rows) for each query of the page."""
    found = []
    for query, after in _BLOCK.findall(PAGE.read_text()):
        table = [line for line in after.splitlines() if line.startswith("|")]
        assert len(table) >= 2, f"no answer table after:\n{query}"
        cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table]
        found.append((query, cells[0], cells[2:]))
    return found


def test_the_page_has_an_answer_for_each_question() -> None:
    assert len(examples()) >= 6


@pytest.mark.parametrize("index", range(len(examples())))
def test_each_query_gives_the_answer_shown(loaded: Store, index: int) -> None:
    query, header, rows = examples()[index]
    body = json.loads(answer(loaded, query, "json").body)
    assert body["head"]["vars"] == header
    got = [[b[v]["value"] if v in b else "" for v in header] for b in body["results"]["bindings"]]
    assert got == rows

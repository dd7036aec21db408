"""Facts added by hand through the CLI: `pactgraph template csv`, and `pactgraph validate` with the
bundled data or the store as the context it names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pactgraph.data import DATA_DIR
from pactgraph.graph.csvfacts import COLUMNS, KINDS

EXAMPLES = DATA_DIR / "examples"


def cli(*args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("PACTGRAPH_STORE", None)
    if store is not None:
        env["PACTGRAPH_STORE"] = f"oxigraph:{store}"
    return subprocess.run(
        [sys.executable, "-m", "pactgraph.api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_template_is_the_header_and_every_example_row_and_it_ingests(tmp_path: Path) -> None:
    template = tmp_path / "facts.csv"
    done = cli("template", "csv", "--output", str(template))
    assert done.returncode == 0, done.stderr
    lines = template.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    rows = [
        r for f in sorted(EXAMPLES.glob("*.csv")) for r in f.read_text(encoding="utf-8").splitlines()[1:] if r
    ]
    assert sorted(lines[1:]) == sorted(rows)
    assert {line.split(",", 1)[0] for line in lines[1:]} == set(KINDS)
    # it ingests as it is on top of the bundled data: one graph, named after the file
    store = tmp_path / "store"
    done = cli("ingest", str(DATA_DIR), str(template), store=store)
    assert done.returncode == 0, done.stderr
    assert "https://pactgraph.org/graph/facts  (facts.csv)" in done.stdout
    one_kind = cli("template", "csv", "--kind", "sanction").stdout.splitlines()
    assert one_kind[0] == ",".join(COLUMNS) and [r.split(",", 1)[0] for r in one_kind[1:]] == ["sanction"]
    explained = cli("template", "csv", "--explain").stdout
    assert "membership: an actor's membership of an organisation (pg:Membership)" in explained
    assert "quote   the source's words that support it (pg:quote)" in explained


def test_template_refuses_what_it_does_not_know() -> None:
    done = cli("template", "xlsx")
    assert done.returncode == 2 and "no template 'xlsx'" in done.stderr
    done = cli("template", "csv", "--kind", "friendship")
    assert done.returncode == 2 and "--kind is one of source, person" in done.stderr


def test_the_seed_file_validates_alone_with_the_bundled_data_as_context() -> None:
    done = cli("validate", str(DATA_DIR / "seed" / "russia-iran-pact-2025.ttl"))
    assert done.returncode == 0, done.stdout + done.stderr
    first, *rest = done.stdout.splitlines()
    assert first.startswith("context: the bundled data (") and "files under" in first
    assert rest == ["conforms: every shape holds"]
    # an example file names sources of another example file: described nowhere in the context
    done = cli("validate", str(EXAMPLES / "example-tenures.csv"))
    assert done.returncode == 1
    assert "UnknownReference" in done.stdout and "example-tenures.csv: line 2, column subject" in done.stdout


def test_validate_with_a_store_uses_it_and_says_so(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert cli("ingest", str(DATA_DIR), str(EXAMPLES / "example-sources.csv"), store=store).returncode == 0
    done = cli("validate", str(EXAMPLES / "example-persons.csv"), "--store", f"oxigraph:{store}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [f"context: the store oxigraph:{store}", "conforms: every shape holds"]

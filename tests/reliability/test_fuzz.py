"""Fuzzing: schemathesis against the app's own OpenAPI schema (GET /openapi.json of a real
server over a fresh copy of the store), valid and invalid requests for every operation, with
the write token so writes are fuzzed too. No 5xx; every response matches the schema."""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pactgraph.api.settings import Settings
from tests.reliability.conftest import copy_store
from tests.reliability.helpers import FIGURES, TOKEN, Live, live_server

try:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        negative_data_rejection,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
except ImportError:
    if os.environ.get("CI"):
        raise  # CI installs schemathesis (.ci/run); a fuzzer that is missing there fails the run
    pytest.skip("schemathesis is not installed: pip install schemathesis", allow_module_level=True)

EXAMPLES = int(os.environ.get("PACTGRAPH_FUZZ_EXAMPLES", "15"))  # per operation and mode
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _failures(exc: BaseException) -> list[tuple[str, str]]:
    """The distinct failures of one case (schemathesis raises a group), as (kind, one line)."""
    inner = getattr(exc, "exceptions", None) or [exc]
    return [(type(e).__name__, " ".join(str(e).split())[:300]) for e in inner]


@pytest.fixture(scope="module")
def fuzzed(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = copy_store(seeded, tmp_path_factory.mktemp("fuzz") / "store")
    cfg = Settings(store=f"oxigraph:{path}", token=TOKEN, query_timeout=5.0, max_body=1_000_000, max_rows=100)
    with live_server(cfg, path) as live:
        yield live


def fuzz(
    url: str,
    op: schemathesis.APIOperation,
    mode: GenerationMode,
    checks: list[object],
    label: str,
    statuses: Counter[int],
    findings: dict[tuple[str, str], list[str]],
) -> None:
    """Up to EXAMPLES cases of one operation in one mode; every failing case is recorded."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: a red CI is reproducible
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks)  # type: ignore[arg-type]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # record every failing case and go on generating
            for kind, text in _failures(exc):
                examples = findings.setdefault((kind, label), [])
                if len(examples) < 2:
                    examples.append(f"{response.status_code}: {text} <- {case.as_curl_command()[:300]}")

    run()


@pytest.mark.slow
def test_schemathesis_finds_no_5xx_and_no_schema_mismatch(fuzzed: Live) -> None:
    schema = schemathesis.openapi.from_url(fuzzed.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10, [op.label for op in operations]
    statuses: Counter[int] = Counter()
    findings: dict[tuple[str, str], list[str]] = {}  # (failure, operation) -> examples
    t0 = time.monotonic()
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
            label = f"{op.label} [{mode.value}]"
            with contextlib.suppress(Unsatisfiable):
                # Unsatisfiable: an operation without parameters or body has no invalid request
                # to make, so nothing to fuzz in negative mode (GET /stats, /healthz, /readyz...).
                fuzz(fuzzed.url, op, mode, checks, label, statuses, findings)
    seconds = time.monotonic() - t0
    cases = sum(statuses.values())
    by_kind = Counter(kind for kind, _ in findings)
    FIGURES["fuzz"] = (
        f"{cases} cases over {len(operations)} operations ({EXAMPLES} per operation and mode, valid and "
        f"invalid) in {seconds:.0f} s; statuses {dict(sorted(statuses.items()))}; findings by check "
        f"(operation/mode pairs): {dict(by_kind)}"
    )
    assert httpx.get(fuzzed.url + "/healthz", timeout=30).status_code == 200
    assert cases >= 100
    assert not findings, "\n".join(
        f"{k[0]} in {k[1]}:\n  " + "\n  ".join(v) for k, v in sorted(findings.items())
    )

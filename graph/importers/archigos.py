"""Archigos 4.1 (Goemans, Gleditsch and Chiozza), the Stata 14 file: effective leaders 1840–2015
with entry and exit manner, birth and death, gender. Countries are Gleditsch–Ward numbers.

Date rule (codebook and data, see the README): STARTDATE and ENDDATE are days; the end day is the
day the leader lost power, which is also the successor's STARTDATE in 2,361 of 3,221 successions
(346 start the next day): ends are inclusive and a handover day has two leaders. Leaders coded
"Still in Office" have the coverage end (2015-12-31; 2014-12-31 for three countries coded only
to then) as ENDDATE: they are ongoing as of that day, not ended.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowSink,
    SourceDescription,
    Triples,
    read_rows,
    require_columns,
)
from pactgraph.graph.importers.leaders import LeaderSpell, write_leaders
from pactgraph.graph.importers.states import StateRef, state_codes
from pactgraph.graph.store import Store

COLUMNS = [
    "obsid",
    "leadid",
    "ccode",
    "idacr",
    "leader",
    "startdate",
    "enddate",
    "entry",
    "exit",
    "gender",
    "yrborn",
    "yrdied",
]

SOURCE = SourceDescription(
    slug="archigos-4.1",
    title="Archigos: A Data Set on Political Leaders",
    publisher="Hein Goemans, Kristian Skrede Gleditsch and Giacomo Chiozza",
    version="4.1",
    citation=(
        "Goemans, Henk E., Kristian Skrede Gleditsch, and Giacomo Chiozza. 2009. "
        "“Introducing Archigos: A Data Set of Political Leaders.” Journal of Peace Research 46(2): 269–283."
    ),
    licence="Free to use with citation (the authors' terms)",
    download_url="https://www.rochester.edu/college/faculty/hgoemans/data.htm",
    end_rule="inclusive",
    coverage_start="1840-01-01",
    coverage_end="2015-12-31",
)

_ENTRY = {
    "Regular": "regular",
    "Irregular": "irregular",
    "Foreign Imposition": "foreign imposition",
    "Unknown": "unknown",
}


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]


def _frame(f: InputFile) -> Any:
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a few latin-1 names: pandas says so and falls back
            return pd.read_stata(io.BytesIO(f.data), convert_categoricals=True, preserve_dtypes=False)
    except Exception as exc:  # pandas raises ValueError, KeyError, struct.error… on a non-Stata file
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"{f.name}: not an Archigos file: not a readable Stata .dta file ({type(exc).__name__}: {exc})",
        ) from exc


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _date(v: Any, what: str) -> str:
    text = _text(v)
    from datetime import date

    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise BadRow(f"{what} is not a date: {text!r}") from exc


def _year(v: Any) -> str | None:
    text = _text(v)
    try:
        y = int(float(text))
    except ValueError:
        return None
    return f"{y:04d}" if y > 0 else None  # -999 / -777: unknown, alive


def _exit(manner: str, detail: str) -> str | None:
    """Archigos' exit and its finer exitcode, as one phrase ("irregular: removed by military")."""
    if not manner:
        return None
    more = f": {detail.lower()}" if detail and detail != manner else ""
    return manner.lower() + more


def _read(files: list[InputFile], bad: RowSink, progress: Progress | None) -> list[LeaderSpell]:
    codes = state_codes()
    out: list[LeaderSpell] = []
    for f in files:
        frame = _frame(f)
        require_columns(f.name, [str(c) for c in frame.columns], COLUMNS, "Archigos 4.1 (.dta)")
        records = frame.to_dict("records")

        def parse(row: dict[str, Any]) -> LeaderSpell:
            try:
                ccode = int(row["ccode"])
            except (TypeError, ValueError) as exc:
                raise BadRow(f"ccode is not a number: {row['ccode']!r}") from exc
            idacr = _text(row["idacr"])
            ref = codes.gw(ccode) or StateRef(
                f"state/gw-{ccode}", f"{idacr} (GW {ccode})", historic=True, gw=(ccode,)
            )
            name, obsid, leadid = _text(row["leader"]), _text(row["obsid"]), _text(row["leadid"])
            if not name or not obsid or not leadid:
                raise BadRow("obsid, leadid and leader must not be empty")
            start, end = _date(row["startdate"], "startdate"), _date(row["enddate"], "enddate")
            if end < start:
                raise BadRow(f"enddate {end} is before startdate {start}")
            still = _text(row["exit"]) == "Still in Office"
            exit_text = _text(row["exitcode"]) if "exitcode" in row else ""
            gender = {"M": "male", "F": "female"}.get(_text(row["gender"]))
            return LeaderSpell(
                record=obsid,
                person=leadid,
                name=name,
                state=ref,
                role="EffectiveLeader",
                start=start,
                end=None if still else end,
                ongoing_as_of=end if still else None,
                entry=_ENTRY.get(_text(row["entry"]), _text(row["entry"]).lower() or None),
                exit=None
                if still
                else (
                    _text(row["exit"]).lower()
                    + (f": {exit_text.lower()}" if exit_text and exit_text != _text(row["exit"]) else "")
                )
                or None,
                born=_year(row["yrborn"]),
                died=_year(row["yrdied"]),
                gender=gender,
            )

        # Stata rows have no lines: row n of the file is "line" n + 1, the header being 1.
        out += read_rows(
            ((i + 2, r) for i, r in enumerate(records)), f.name, parse, bad, progress, len(records)
        )
    return out


def _build(store: Store, spells: list[LeaderSpell], t: Triples, result: ImportResult) -> list[dict[str, str]]:
    return write_leaders(store, SOURCE, spells, t, result)


DATASET = Dataset(
    name="archigos",
    summary="Archigos 4.1: effective leaders 1840–2015 with entry and exit manner (Stata .dta)",
    files="Archigos_4.1_stata14.dta",
    read=_read,
    source=lambda _records: SOURCE,
    build=_build,
)

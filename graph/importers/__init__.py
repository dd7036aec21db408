"""Dataset importers: read a dataset file as its publisher distributes it into one named graph per
release, through ingest's validated, atomic write path.

    from pactgraph.graph.importers import run_import, read_files
    result = run_import(store, "archigos", read_files([Path("Archigos_4.1_stata14.dta")]))

Adding a dataset: write a module with a `DATASET = Dataset(...)` (see `base.Dataset`): its name,
its source description (title, publisher, version, citation, licence, download URL, end rule,
coverage), a `read` that checks the file's shape (`require_columns`) and turns rows into records
(raising `BadRow` for a row it cannot read), and a `build` that adds the records' triples; then
list the module in `_MODULES` below. The framework does the rest: row errors with their lines,
`--skip-bad-rows`, progress, the source node, the write (replace the release's graph whole, or
nothing), the person-review file.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

from rdflib import URIRef

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.importers.base import (
    BadRow,
    Dataset,
    ImportResult,
    InputFile,
    Progress,
    RowError,
    SourceDescription,
    Triples,
)
from pactgraph.graph.importers.persons import write_review
from pactgraph.graph.ingest import IMPORT, SourceInput, ingest
from pactgraph.graph.store import Store

_MODULES = (
    "cow_states",
    "archigos",
    "reign",
    "un_members",
    "wikidata",
    "atop",
    "desta",
    "gsdb",
    "opensanctions",
)


def datasets() -> dict[str, Dataset]:
    """Every importer, by the name `pactgraph import NAME` takes."""
    found: dict[str, Dataset] = {}
    for module in _MODULES:
        ds: Dataset = importlib.import_module(f"pactgraph.graph.importers.{module}").DATASET
        found[ds.name] = ds
    return found


def dataset(name: str) -> Dataset:
    known = datasets()
    if name not in known:
        raise PactgraphError(
            Kind.BAD_INPUT, f"no importer for {name!r}; known datasets: {', '.join(sorted(known))}"
        )
    return known[name]


def read_files(paths: list[Path]) -> list[InputFile]:
    out = []
    for p in paths:
        try:
            out.append(InputFile(p.name, p.read_bytes()))
        except OSError as exc:
            raise PactgraphError(Kind.BAD_INPUT, f"{p}: cannot read ({exc.strerror})") from exc
    return out


def run_import(
    store: Store,
    name: str,
    files: list[InputFile],
    *,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    review_dir: Path | None = None,
    replace: bool = False,
) -> ImportResult:
    """Import dataset `name` from `files` into the store: the release's graph is replaced whole,
    or, on any error (a wrong file, an unreadable row without `skip_bad_rows`, a shape
    violation), the store is left as it was. A release graph that another source holds (a file
    ingested under its name) is replaced only with `replace`."""
    ds = dataset(name)
    if not files:
        raise PactgraphError(Kind.BAD_INPUT, f"{name}: give the dataset's file ({ds.files})")
    bad: list[RowError] = []
    records = ds.read(files, bad.append, progress)
    src: SourceDescription = ds.source(records)
    result = ImportResult(dataset=name, graph=src.graph, rows=ds.count(records))
    if bad and not skip_bad_rows:
        shown = "\n".join(str(e) for e in bad[:20]) + (
            f"\n… and {len(bad) - 20} more" if len(bad) > 20 else ""
        )
        raise PactgraphError(
            Kind.BAD_INPUT,
            f"{len(bad)} row(s) could not be read (nothing was written; "
            f"--skip-bad-rows skips and lists them):\n{shown}",
            detail=[{"file": e.file, "line": e.line, "message": e.message} for e in bad],
        )
    result.skipped = bad
    t = Triples()
    t.describe_source(src)
    if progress:
        progress("reconcile", 0, 1)
    near = ds.build(store, records, t, result)
    if progress:
        progress("validate and write", 0, 1)
    data = t.ntriples()
    names = ", ".join(f.name for f in files)
    written = ingest(
        store, [SourceInput(names, data, "ntriples", URIRef(src.graph), IMPORT + ds.name)], replace=replace
    )
    result.triples = written.graphs.get(src.graph, 0)
    if near:
        where = review_dir or _default_review_dir(store)
        path = where / f"{src.slug}-person-review.csv"
        write_review(path, near)
        result.review_file = str(path)
    if progress:
        progress("done", 1, 1)
    return result


def _default_review_dir(store: Store) -> Path:
    if store.meta_dir is not None:
        return store.meta_dir / "review"
    return Path(tempfile.gettempdir()) / "pactgraph-review"


__all__ = [
    "BadRow",
    "Dataset",
    "ImportResult",
    "InputFile",
    "RowError",
    "SourceDescription",
    "dataset",
    "datasets",
    "read_files",
    "run_import",
]

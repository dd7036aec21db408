"""The `pactgraph` command: ingest, validate, query, stats and serve, each with --store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from pactgraph.graph import (
    PactgraphError,
    Store,
    answer,
    ingest,
    load_ontology,
    open_store,
    read_sources,
    stats,
)
from pactgraph.graph.errors import Kind
from pactgraph.graph.ingest import validate_sources

app = typer.Typer(
    help="pactgraph: a knowledge graph of states, leaders and agreements.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store", envvar="PACTGRAPH_STORE", help="memory:, oxigraph:PATH (default under ~/.local/share)"
    ),
]
EXIT = {Kind.INVALID: 1, Kind.BAD_INPUT: 2, Kind.BUSY: 3}


def _fail(exc: PactgraphError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc.message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(EXIT.get(exc.kind, 4))


def _open(url: str | None) -> Store:
    try:
        return open_store(url)
    except PactgraphError as exc:
        raise _fail(exc) from None


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="files or directories (every .ttl .nt .nq .trig .jsonld .rdf .csv)")
    ],
    store: StoreOption = None,
    fmt: Annotated[str | None, typer.Option("--format", help="override the format for every file")] = None,
    no_validate: Annotated[bool, typer.Option("--no-validate", help="skip SHACL validation")] = False,
) -> None:
    """Validate and write files into the store, one named graph per file; all or nothing."""
    db = _open(store)
    try:
        sources = read_sources(paths, fmt)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task("ingest", total=len(sources))

            def progress(name: str, done: int, total: int) -> None:
                bar.update(task, completed=done, description=f"ingest {name}")

            load_ontology(db)
            result = ingest(db, sources, validate_shapes=not no_validate, progress=progress)
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    for graph, n in sorted(result.graphs.items()):
        out.print(f"{n:>8}  {graph}  ({result.files[graph]})", highlight=False)
    out.print(f"{result.triples} triples in {len(result.graphs)} graph(s)", highlight=False)


@app.command("validate")
def validate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="files or directories to check")],
    fmt: Annotated[str | None, typer.Option("--format", help="override the format for every file")] = None,
    store: Annotated[
        str | None, typer.Option("--store", help="also resolve references against this store (default: none)")
    ] = None,
) -> None:
    """Check files against the SHACL shapes without writing anything; exit 1 when invalid."""
    db = open_store(store) if store else None
    try:
        report = validate_sources(db, read_sources(paths, fmt))
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        if db:
            db.close()
    if report.conforms:
        out.print("conforms: every shape holds")
        return
    table = Table("focus node", "path", "rule", "message", title=f"{len(report.violations)} violation(s)")
    for v in report.violations:
        table.add_row(v.focus, v.path or "", v.rule, v.message)
    out.print(table)
    raise typer.Exit(1)


@app.command("query")
def query_cmd(
    sparql: Annotated[
        str, typer.Argument(help="a SPARQL query, or @FILE to read it from a file, or - for stdin")
    ],
    store: StoreOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table, json, xml, csv, tsv; turtle etc. for CONSTRUCT")
    ] = "table",
) -> None:
    """Run a SPARQL query on the store's native engine; a table by default."""
    text = (
        sys.stdin.read()
        if sparql == "-"
        else Path(sparql[1:]).read_text()
        if sparql.startswith("@")
        else sparql
    )
    db = _open(store)
    try:
        result = answer(db, text, "json" if fmt == "table" else fmt if fmt != "table" else None)
        if fmt == "table" and result.kind == "graph":
            result = answer(db, text, "turtle")
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    if fmt != "table" or result.kind == "graph":
        sys.stdout.write(result.body.decode("utf-8"))
        if not result.body.endswith(b"\n"):
            sys.stdout.write("\n")
        return
    data = json.loads(result.body)
    if result.kind == "ask":
        out.print("true" if data["boolean"] else "false")
        return
    names = data["head"]["vars"]
    table = Table(*names, title=f"{len(data['results']['bindings'])} row(s)")
    for row in data["results"]["bindings"]:
        table.add_row(*(row[n]["value"] if n in row else "" for n in names))
    out.print(table)


@app.command("stats")
def stats_cmd(store: StoreOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Triples per named graph and instances per class."""
    db = _open(store)
    try:
        s = stats(db)
    finally:
        db.close()
    if as_json:
        out.print_json(data={"triples": s.triples, "graphs": s.graphs, "classes": s.classes})
        return
    graphs = Table("named graph", "triples", title=f"{s.triples} triples")
    for g, n in s.graphs.items():
        graphs.add_row(g, str(n))
    classes = Table("class", "instances")
    for c, n in s.classes.items():
        classes.add_row(c, str(n))
    out.print(graphs)
    out.print(classes)


@app.command("path")
def path_cmd(
    sources: Annotated[list[str], typer.Argument(help="one or more actors: names, ISO codes, ids")],
    to: Annotated[str, typer.Option("--to", help="the target actor")],
    store: StoreOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD: only relations valid then")
    ] = None,
    max_hops: Annotated[int, typer.Option("--max-hops", help="longest path, in edges")] = 4,
    limit: Annotated[int, typer.Option(help="paths per source")] = 5,
    status: Annotated[
        str, typer.Option(help="minimum claim status: confirmed, reported, disputed, denied")
    ] = "denied",
    via: Annotated[list[str] | None, typer.Option(help="allowed predicates or classes")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="barred predicates or classes")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the same JSON as GET /paths")] = False,
) -> None:
    """How do these actors connect to the target? Ranked paths, each told in one sentence."""
    from pactgraph.graph.dates import as_of_date
    from pactgraph.graph.names import NameIndex
    from pactgraph.graph.paths import PathQuery, find_paths
    from pactgraph.graph.projection import build

    db = _open(store)
    try:
        names = NameIndex.build(db)
        query = PathQuery(
            tuple(dict.fromkeys(names.resolve(s).iri for s in sources)),
            names.resolve(to).iri,
            max_hops,
            limit,
            as_of_date(as_of) if as_of else None,
            status.lower(),
            tuple(via or ()),
            tuple(exclude or ()),
        )
        result = find_paths(build(db), query)
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    if as_json:
        out.print_json(data=result)
        return
    labels = {n["id"]: n["label"] for n in result["query"]["from"]}
    target = result["query"]["to"]["label"]
    for group in result["paths"]:
        out.print(f"[bold]{labels[group['from']]} → {target}[/]", highlight=False)
        if not group["paths"]:
            out.print(f"  no path within {max_hops} hops", highlight=False)
        for i, p in enumerate(group["paths"], 1):
            out.print(f"  {i}. ({p['hops']} hops) {p['text']}", highlight=False, markup=False)
    if result["connections"]:
        out.print("[bold]What they share[/]", highlight=False)
        for c in result["connections"]:
            out.print(f"  • {c['node']['label']}: {c['text']}", highlight=False, markup=False)


@app.command("export")
def export_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write, or - for stdout")],
    fmt: Annotated[
        str, typer.Option("--format", help="graphml, gexf, cyjs, turtle, nquads, trig, jsonld")
    ] = "graphml",
    store: StoreOption = None,
    around: Annotated[str | None, typer.Option(help="only the neighbourhood of this entity")] = None,
    depth: Annotated[int, typer.Option(help="hops from --around")] = 1,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD: only relations valid then")
    ] = None,
    status: Annotated[
        str, typer.Option(help="minimum claim status: confirmed, reported, disputed, denied")
    ] = "denied",
    sources: Annotated[
        list[str] | None, typer.Option("--from", help="path query sources (with --to)")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="path query target (with --from)")] = None,
    max_hops: Annotated[int, typer.Option("--max-hops", help="longest path, in edges")] = 4,
    limit: Annotated[int, typer.Option(help="paths per source")] = 5,
    include_literals: Annotated[
        bool, typer.Option("--include-literals", help="RDF formats: every literal of the nodes too")
    ] = False,
) -> None:
    """Export the graph, an entity's neighbourhood or a path query's answer for Gephi, Cytoscape,
    yEd or another RDF store; written as it streams, into FILE only once complete."""
    import os
    import tempfile

    from pactgraph.graph.dates import as_of_date
    from pactgraph.graph.export import Scope, export, export_format, select, total
    from pactgraph.graph.names import NameIndex
    from pactgraph.graph.paths import PathQuery
    from pactgraph.graph.projection import build

    db = _open(store)
    try:
        chosen = export_format(fmt)
        if bool(sources) != (to is not None):
            raise PactgraphError(Kind.BAD_INPUT, "a path export needs both --from and --to")
        day = as_of_date(as_of) if as_of else None
        names = NameIndex.build(db)
        query = None
        if sources and to is not None:
            query = PathQuery(
                tuple(dict.fromkeys(names.resolve(s).iri for s in sources)),
                names.resolve(to).iri,
                max_hops,
                limit,
                day,
                status.lower(),
            )
        root = names.resolve(around).iri if around is not None else None
        sub = select(db, build(db), Scope(root, depth, query, day, status.lower()))
        elements = total(sub, chosen.name)
        to_stdout = str(output) == "-"
        target = sys.stdout.buffer if to_stdout else None
        tmp = None
        if target is None:
            # A partial file never takes the name: write beside it, rename when done.
            fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent.resolve())
            target = os.fdopen(fd, "wb")
        written = 0
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            ) as bar:
                task = bar.add_task(f"export {chosen.name}", total=elements)
                for chunk in export(
                    db,
                    sub,
                    chosen.name,
                    include_literals,
                    progress=lambda done: bar.update(task, completed=done),
                ):
                    target.write(chunk)
                    written += len(chunk)
            target.flush()
            if tmp is not None:
                target.close()
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the export private
                os.replace(tmp, output)
                tmp = None
        finally:
            if tmp is not None:
                target.close()
                os.unlink(tmp)
    except PactgraphError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        raise _fail(PactgraphError(Kind.BAD_INPUT, f"cannot write {output}: {exc.strerror or exc}")) from None
    finally:
        db.close()
    if not to_stdout:
        edges = (
            ""
            if chosen.name in ("turtle", "nquads", "trig", "jsonld")
            else f", {elements - len(sub.nodes)} edges"
        )
        err.print(f"{len(sub.nodes)} nodes{edges}: {written} bytes to {output}", highlight=False)


@app.command("import")
def import_cmd(
    dataset_name: Annotated[
        str, typer.Argument(metavar="DATASET", help="cow-states, archigos, reign, un-members, wikidata")
    ],
    files: Annotated[
        list[Path] | None, typer.Argument(help="the dataset's file(s), as the publisher distributes them")
    ] = None,
    store: StoreOption = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="wikidata: a saved WDQS JSON answer, not the live query"),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="skip rows that cannot be read, and list them")
    ] = False,
    review_dir: Annotated[
        Path | None, typer.Option("--review-dir", help="where the person-review file goes (default: .)")
    ] = None,
) -> None:
    """Import a dataset file into one named graph per release (replaced whole; all or nothing)."""
    from pactgraph.graph.importers import dataset, read_files, run_import

    paths = list(files or []) + ([from_file] if from_file else [])
    db = _open(store)
    try:
        ds = dataset(dataset_name)
        if not paths and ds.name == "wikidata":
            from pactgraph.graph.importers.wikidata import fetch

            err.print("asking the Wikidata query service (one query, up to a minute)…", highlight=False)
            inputs = [fetch()]
        else:
            inputs = read_files(paths)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(f"import {ds.name}", total=1)

            def progress(what: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(total, 1), description=f"{ds.name}: {what}")

            load_ontology(db)
            result = run_import(
                db,
                ds.name,
                inputs,
                skip_bad_rows=skip_bad_rows,
                progress=progress,
                review_dir=review_dir or Path.cwd(),
            )
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    out.print(f"{result.triples} triples from {result.rows} rows into {result.graph}", highlight=False)
    for e in result.skipped:
        out.print(f"skipped: {e}", highlight=False, markup=False)
    if result.persons_new or result.persons_merged:
        out.print(
            f"persons: {result.persons_merged} matched to persons already known, {result.persons_new} new",
            highlight=False,
        )
    if result.review_file:
        out.print(
            f"{result.near_misses} near miss(es) not merged, for review: {result.review_file}",
            highlight=False,
        )


@app.command("serve")
def serve_cmd(
    store: StoreOption = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    access_log: Annotated[
        bool | None, typer.Option(help="log every request (default: PACTGRAPH_ACCESS_LOG, else off)")
    ] = None,
) -> None:
    """Serve the HTTP API (SPARQL, graph store, ingest, stats); an empty store gets the bundled data."""
    import uvicorn

    from pactgraph.api.app import create_app
    from pactgraph.api.settings import Settings

    settings = Settings.from_env(store=store, access_log=access_log)
    try:
        db = open_store(settings.store)
    except PactgraphError as exc:
        raise _fail(exc) from None
    try:
        uvicorn.run(
            create_app(settings, db),
            host=host,
            port=port,
            log_level="info",
            access_log=settings.access_log,
            loop="uvloop" if _installed("uvloop") else "asyncio",
            http="httptools" if _installed("httptools") else "h11",
        )
    finally:
        db.close()


def _installed(module: str) -> bool:
    """uvloop and httptools are dependencies, used where installed: the HTTP stack's cost per
    request is a third of asyncio and h11's; elsewhere uvicorn's pure-Python pair."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main() -> None:
    try:
        app()
    except PactgraphError as exc:
        raise SystemExit(_fail(exc).exit_code) from None
    except Exception as exc:  # a bug: say so in one line, not a stack trace
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
        raise SystemExit(4) from None


if __name__ == "__main__":
    main()

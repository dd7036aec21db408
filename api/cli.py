"""The `pactgraph` command: serve, ingest, validate, query, path, entity, search, export, stats, template.

Every command takes --store. Read commands work while `pactgraph serve` holds an on-disk store:
they ask that server over HTTP and print the same output (api/readers.py); writes go to its
POST /ingest. Exit codes: 1 invalid data, 2 bad input, 3 store busy, 4 any other error.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from pactgraph.api.address import announce, client_url, running_server, withdraw
from pactgraph.api.readers import ExportParams, PathParams, Reader, open_reader
from pactgraph.graph import (
    PactgraphError,
    Store,
    default_store_url,
    ensure_ontology,
    ingest,
    open_store,
    read_sources,
)
from pactgraph.graph.errors import Kind
from pactgraph.graph.ingest import context_from, validate_sources
from pactgraph.graph.labels import fact_text
from pactgraph.graph.sparql import query_form

if TYPE_CHECKING:
    import uvicorn

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
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD: only relations valid then")]
StatusOption = Annotated[
    str, typer.Option(help="minimum claim status: confirmed, reported, disputed, denied")
]
EXIT = {Kind.INVALID: 1, Kind.BAD_INPUT: 2, Kind.BUSY: 3}  # anything else: 4


def _fail(exc: PactgraphError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc.message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(EXIT.get(exc.kind, 4))


def _open(url: str | None) -> Store:
    """The store, for a command that writes; held by a running server, the error names it."""
    try:
        return open_store(url)
    except PactgraphError as exc:
        server = running_server(url or default_store_url()) if exc.kind == Kind.BUSY else None
        if server is not None:
            exc = PactgraphError(exc.kind, f"{exc.message} (it is serving at {server}: {server}/ingest)")
        raise _fail(exc) from None


def _reader(url: str | None) -> Reader:
    """The store for a command that only reads: opened here, or asked of the server holding it."""
    try:
        return open_reader(
            url or default_store_url(),
            wait=lambda: err.print("the store is held by a server that is still starting; waiting…"),
        )
    except PactgraphError as exc:
        raise _fail(exc) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="files or directories (every .ttl .nt .nq .trig .jsonld .rdf .csv)")
    ],
    store: StoreOption = None,
    fmt: Annotated[str | None, typer.Option("--format", help="override the format for every file")] = None,
    no_validate: Annotated[bool, typer.Option("--no-validate", help="skip SHACL validation")] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="replace graphs that another source (file, dataset, bundled data) holds"
        ),
    ] = False,
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

            ensure_ontology(db)
            result = ingest(db, sources, validate_shapes=not no_validate, progress=progress, replace=replace)
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
        str | None,
        typer.Option(
            "--store", help="resolve references against this store (default: the bundled data of data/)"
        ),
    ] = None,
) -> None:
    """Check files against the SHACL shapes without writing anything; exit 1 when invalid.

    What the files refer to (a source, a state, an organisation) may be described elsewhere: in
    the store given with --store, or else in the bundled data, which is the context then (a file
    that is itself bundled is checked in place of its bundled copy). The first line says which."""
    reader = _reader(store) if store else None
    try:
        sources = read_sources(paths, fmt)
        if reader is not None:
            context: Any = reader.context_store()
            out.print(f"context: the store {store}", highlight=False)
        else:
            from pactgraph.data import DATA_DIR

            bundled = read_sources([DATA_DIR])
            context = context_from(bundled)
            out.print(f"context: the bundled data ({len(bundled)} files under {DATA_DIR})", highlight=False)
        report = validate_sources(context, sources)
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        if reader:
            reader.close()
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
    kind = query_form(text)
    wanted = fmt if fmt != "table" else "turtle" if kind == "graph" else "json"
    reader = _reader(store)
    try:
        body, truncated = reader.sparql(text, wanted)
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        reader.close()
    if truncated is not None:
        err.print(
            f"[yellow]note:[/] the server at {reader.where} cut the answer at {truncated} rows "
            "(its PACTGRAPH_MAX_ROWS)",
            highlight=False,
        )
    if fmt != "table" or kind == "graph":
        sys.stdout.write(body.decode("utf-8"))
        if not body.endswith(b"\n"):
            sys.stdout.write("\n")
        return
    data = json.loads(body)
    if "boolean" in data:
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
    reader = _reader(store)
    try:
        s = reader.stats()
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        reader.close()
    if as_json:
        out.print_json(data=s)
        return
    graphs = Table("named graph", "triples", title=f"{s['triples']} triples")
    for g, n in s["graphs"].items():
        graphs.add_row(g, str(n))
    classes = Table("class", "instances")
    for c, n in s["classes"].items():
        classes.add_row(c, str(n))
    out.print(graphs)
    out.print(classes)


@app.command("path")
def path_cmd(
    sources: Annotated[list[str], typer.Argument(help="one or more actors: names, ISO codes, ids")],
    to: Annotated[str, typer.Option("--to", help="the target actor")],
    store: StoreOption = None,
    as_of: AsOfOption = None,
    max_hops: Annotated[int, typer.Option("--max-hops", help="longest path, in edges")] = 4,
    limit: Annotated[int, typer.Option(help="paths per source")] = 5,
    status: StatusOption = "denied",
    via: Annotated[list[str] | None, typer.Option(help="allowed predicates or classes")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="barred predicates or classes")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the same JSON as GET /paths")] = False,
) -> None:
    """How do these actors connect to the target? Ranked paths, each told in one sentence."""
    params = PathParams(sources, to, max_hops, limit, as_of, status, tuple(via or ()), tuple(exclude or ()))
    reader = _reader(store)
    try:
        result = reader.paths(params)
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        reader.close()
    if as_json:
        out.print_json(data=result)
        return
    labels = {n["id"]: n["label"] for n in result["query"]["from"]}
    target = result["query"]["to"]["label"]
    # One line per path, however long: the terminal wraps it, a pipe or a file gets it whole.
    for group in result["paths"]:
        out.print(f"[bold]{labels[group['from']]} → {target}[/]", highlight=False)
        if not group["paths"]:
            out.print(f"  no path within {max_hops} hops", highlight=False)
        for i, p in enumerate(group["paths"], 1):
            out.print(f"  {i}. ({p['hops']} hops) {p['text']}", highlight=False, markup=False, soft_wrap=True)
    if result["connections"]:
        out.print("[bold]What they share[/]", highlight=False)
        for c in result["connections"]:
            out.print(f"  • {c['node']['label']}: {c['text']}", highlight=False, markup=False, soft_wrap=True)


@app.command("entity")
def entity_cmd(
    name: Annotated[str, typer.Argument(help="a label, alias, ISO code, Wikidata id, local id or IRI")],
    store: StoreOption = None,
    as_of: AsOfOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="the same JSON as GET /entities/NAME")] = False,
) -> None:
    """One entity: names, classes, identifiers, its facts with dates, status and sources."""
    reader = _reader(store)
    try:
        e = reader.entity(name, as_of)
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        reader.close()
    if as_json:
        out.print_json(data=e)
        return
    _print_entity(e)


def _print_entity(e: dict[str, Any]) -> None:
    say = lambda text: out.print(text, highlight=False, markup=False, soft_wrap=True)  # noqa: E731
    say(f"{e['label']} ({e['class'] or 'entity'}) {e['id']}")
    if e["aliases"]:
        say("also: " + " · ".join(a["value"] for a in e["aliases"]))
    for key, value in e["identifiers"].items():
        say(f"{key.replace('_', ' ')}: {value}")
    for p in e["properties"]:
        say(f"{p['label']}: {p['value']}")
    for group, facts in e["facts"].items():
        table = Table("fact", "start", "end", "status", "sources", title=group, title_justify="left")
        for f in facts:
            text = fact_text(e, f)
            # the hub's other parties the sentence does not name (what an arms transfer is used in…)
            rest = [w for w in f.get("with", []) if w["id"] != e["id"] and w["label"] not in text]
            if rest:
                text += " (" + "; ".join(f"{w['role']}: {w['label']}" for w in rest) + ")"
            sources = ", ".join(s.rsplit("/", 1)[-1] for s in f["evidence"]["sources"])
            table.add_row(text, f["start"] or "", f["end"] or "", f["status"], sources)
        out.print(table, highlight=False)


@app.command("search")
def search_cmd(
    text: Annotated[str, typer.Argument(help="what to look for: a name, part of one, a code, a typo")],
    store: StoreOption = None,
    type: Annotated[str | None, typer.Option(help="a class, e.g. State, Person, Organisation")] = None,
    limit: Annotated[int, typer.Option(help="hits to show")] = 10,
    offset: Annotated[int, typer.Option(help="hits to skip")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="the same JSON as GET /search")] = False,
) -> None:
    """Entities by name, alias, code, prefix and fuzzy match, best first."""
    reader = _reader(store)
    try:
        found = reader.search(text, type, limit, offset)
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        reader.close()
    if as_json:
        out.print_json(data=found)
        return
    table = Table("label", "id", "class", "matched", "how", title=f"{found['total']} match(es)")
    for h in found["hits"]:
        classes = ", ".join(c.rsplit("#", 1)[-1] for c in h["classes"])
        table.add_row(h["label"], h["local_id"], classes, h["matched"], h["how"])
    out.print(table, highlight=False)


@app.command("export")
def export_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write, or - for stdout")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="graphml, gexf, cyjs (Cytoscape desktop's .cyjs), turtle, nquads, trig, jsonld",
        ),
    ] = "graphml",
    store: StoreOption = None,
    around: Annotated[str | None, typer.Option(help="only the neighbourhood of this entity")] = None,
    depth: Annotated[int, typer.Option(help="hops from --around")] = 1,
    as_of: AsOfOption = None,
    status: StatusOption = "denied",
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
    params = ExportParams(
        fmt, around, depth, as_of, status, tuple(sources or ()), to, max_hops, limit, include_literals
    )
    to_stdout = str(output) == "-"
    reader = _reader(store)
    try:
        with _progress() as bar:
            task = bar.add_task(f"export {fmt}", total=None)
            result = reader.export(params, progress=lambda done: bar.update(task, completed=done))
            bar.update(task, total=result.nodes + (result.edges or 0))
            written = _write(result.chunks, output, to_stdout)
    except PactgraphError as exc:
        raise _fail(exc) from None
    except OSError as exc:
        raise _fail(PactgraphError(Kind.BAD_INPUT, f"cannot write {output}: {exc.strerror or exc}")) from None
    finally:
        reader.close()
    if not to_stdout:
        edges = "" if result.edges is None else f", {result.edges} edges"
        err.print(f"{result.nodes} nodes{edges}: {written} bytes to {output}", highlight=False)


def _write(chunks: Any, output: Path, to_stdout: bool) -> int:
    """Write the chunks to stdout, or to a file beside `output` renamed to it once complete."""
    written = 0
    if to_stdout:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
            written += len(chunk)
        sys.stdout.buffer.flush()
        return written
    # A partial file never takes the name: write beside it, rename when done.
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent.resolve())
    try:
        with os.fdopen(fd, "wb") as target:
            for chunk in chunks:
                target.write(chunk)
                written += len(chunk)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the export private
        os.replace(tmp, output)
    except BaseException:
        os.unlink(tmp)
        raise
    return written


@app.command("import")
def import_cmd(
    dataset_name: Annotated[
        str,
        typer.Argument(
            metavar="DATASET",
            help="cow-states, archigos, reign, un-members, wikidata, atop, desta, gsdb, opensanctions",
        ),
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
    replace: Annotated[
        bool,
        typer.Option("--replace", help="replace the release's graph when another source (a file) holds it"),
    ] = False,
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

            ensure_ontology(db)
            result = run_import(
                db,
                ds.name,
                inputs,
                skip_bad_rows=skip_bad_rows,
                progress=progress,
                review_dir=review_dir or Path.cwd(),
                replace=replace,
            )
    except PactgraphError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    out.print(f"{result.triples} triples from {result.rows} rows into {result.graph}", highlight=False)
    for e in result.skipped:
        out.print(f"skipped: {e}", highlight=False, markup=False)
    for note in result.notes:  # what was kept aside or left unmatched, with its lines
        out.print(f"note: {note}", highlight=False, markup=False)
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
    from pactgraph.api.http_limits import uvicorn_limits
    from pactgraph.api.settings import Settings

    settings = Settings.from_env(store=store, access_log=access_log)
    db = _open(settings.store)
    config = uvicorn.Config(
        create_app(settings, db),
        host=host,
        port=port,
        log_level="info",
        access_log=settings.access_log,
        loop="uvloop" if _installed("uvloop") else "asyncio",
        # Slow clients are timed out (PACTGRAPH_HEADER_TIMEOUT, _BODY_TIMEOUT, _KEEP_ALIVE) and
        # bounded (PACTGRAPH_MAX_CONNECTIONS): api/http_limits.py.
        **uvicorn_limits(settings, "httptools" if _installed("httptools") else "h11"),
    )
    # Beside the store, so that read commands run meanwhile ask this server (api/readers.py).
    address = announce(settings.store, client_url(host, port))
    server = _uvicorn_server(config, on_stop=lambda: withdraw(address))
    try:
        server.run()
    finally:
        withdraw(address)
        db.close()
    if not server.started:
        raise typer.Exit(4)  # uvicorn has said why (the port in use, the app failed to start)


def _uvicorn_server(config: uvicorn.Config, on_stop: Callable[[], None]) -> uvicorn.Server:
    """uvicorn's Server, calling `on_stop` once it has shut down: uvicorn re-raises the SIGINT or
    SIGTERM that stopped it when it is done, which ends the process before any `finally` runs."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            try:
                await super().shutdown(sockets)
            finally:
                on_stop()

    return Server(config)


# The example files, in the order the template lists them (each refers only to those before it
# and to the bundled data).
TEMPLATE_FILES = (
    "sources",
    "persons",
    "organisations",
    "offices",
    "agreements",
    "tenures",
    "memberships",
    "sanctions",
    "support",
    "participations",
    "statements",
)


@app.command("template")
def template_cmd(
    what: Annotated[str, typer.Argument(help="csv: the CSV layout for facts added by hand")],
    kind: Annotated[
        str | None, typer.Option("--kind", help="only the rows of one kind (source, person, membership…)")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="what each column holds, kind by kind")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")
    ] = None,
) -> None:
    """A CSV to fill in: the header and one example row per kind of fact (true, sourced facts from
    data/examples/, that ingest as they are on top of the bundled data). Keep the header, replace
    the rows; `--explain` says what each column holds for each kind."""
    from pactgraph.data import DATA_DIR
    from pactgraph.graph.csvfacts import COLUMNS, KINDS, layout

    if what != "csv":
        raise _fail(PactgraphError(Kind.BAD_INPUT, f"no template {what!r}: the one template is csv"))
    if kind is not None and kind not in KINDS:
        raise _fail(PactgraphError(Kind.BAD_INPUT, f"--kind is one of {', '.join(KINDS)}, not {kind!r}"))
    if explain:
        out.print(layout(), highlight=False, markup=False, soft_wrap=True)
        return
    lines = [",".join(COLUMNS)]
    for name in TEMPLATE_FILES:
        rows = (DATA_DIR / "examples" / f"example-{name}.csv").read_text(encoding="utf-8").splitlines()
        if rows[0] != lines[0]:
            raise _fail(
                PactgraphError(Kind.UNAVAILABLE, f"example-{name}.csv does not have the template's header")
            )
        lines += [r for r in rows[1:] if r and (kind is None or r.split(",", 1)[0] == kind)]
    text = "\n".join(lines) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(PactgraphError(Kind.BAD_INPUT, f"cannot write {output}: {exc.strerror or exc}")) from None
    err.print(f"{len(lines) - 1} example row(s) under the header: {output}", highlight=False)


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

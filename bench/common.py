"""What the benchmark parts share: scales, tools, child processes, servers, memory, tables, JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import world

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
CHILD = BENCH_DIR / "child.py"
PYTHON = sys.executable
SEED = 42


@dataclass(frozen=True)
class Scale:
    """How big and how long: `small` is the CI smoke test, `full` the real figures. The caps keep
    the suite's wall time bounded while parts of pactgraph are slow; a capped run is reported as
    a bound ("> 90 s", "< 1,083 triples/s"), never as a figure it did not reach."""

    name: str
    sizes: tuple[int, ...]
    wrk_seconds: float
    ingest_cap: float  # seconds one pactgraph ingest without validation may take
    validate_cap: float  # the same with SHACL validation
    ready_cap: float  # seconds `pactgraph serve` may take to answer /readyz 200
    projection_cap: float  # the projection and name index built in a child
    path_pairs: int  # random state pairs per kind of /paths query
    path_budget: float  # seconds of /paths requests per kind and size, at most
    request_timeout: float  # one /paths request at most (the server's own limit is 30 s)
    export_cap: float  # one export at most


SCALES = {
    "small": Scale("small", (100_000,), 2.0, 30.0, 30.0, 120.0, 60.0, 8, 8.0, 35.0, 30.0),
    "full": Scale("full", (100_000, 1_000_000), 3.0, 120.0, 120.0, 300.0, 60.0, 25, 15.0, 35.0, 60.0),
}


@dataclass
class Context:
    """One run: where results go, what scale, which tools, and the servers it keeps alive."""

    scale: Scale
    out: Path
    limits: bool = True
    profile: bool = False
    tools: dict[str, str | None] = field(default_factory=dict)
    servers: dict[tuple[str, int], Server] = field(default_factory=dict)
    worlds: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)  # state a part carries from one size to the next

    @property
    def data_dir(self) -> Path:
        return RESULTS_DIR / "data"

    @property
    def work_dir(self) -> Path:
        path = self.out / "work"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def cap(self, seconds: float) -> float | None:
        return seconds if self.limits else None

    def world(self, size: int) -> dict[str, Any]:
        if size not in self.worlds:
            self.worlds[size] = ensure_world(size, self.data_dir)
        return self.worlds[size]

    def stop(self, kind: str | None = None, size: int | None = None) -> None:
        for key in list(self.servers):
            if (kind is None or key[0] == kind) and (size is None or key[1] == size):
                self.servers.pop(key).stop()


# ---------------------------------------------------------------------- tools and machine


def find_tools() -> dict[str, str | None]:
    """Where the outside tools are: wrk (Debian), the oxigraph CLI, rdflib-endpoint, py-spy.

    The comparison tools may live in `bench/.venv` (see README); env vars override."""
    venv_bin = Path(PYTHON).parent
    local_bin = BENCH_DIR / ".venv" / "bin"

    def which(name: str, env: str) -> str | None:
        if os.environ.get(env):
            return os.environ[env]
        for candidate in (venv_bin / name, local_bin / name):
            if candidate.exists():
                return str(candidate)
        return shutil.which(name)

    return {
        "wrk": which("wrk", "BENCH_WRK"),
        "oxigraph": which("oxigraph", "BENCH_OXIGRAPH"),
        "rdflib-endpoint": which("rdflib-endpoint", "BENCH_RDFLIB_ENDPOINT"),
        "py-spy": which("py-spy", "BENCH_PYSPY"),
    }


def _version(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def machine(tools: dict[str, str | None]) -> dict[str, Any]:
    """The machine, the load on it and the versions, recorded with every result."""
    from importlib.metadata import PackageNotFoundError, version

    packages: dict[str, str | None] = {}
    for name in (
        "pactgraph",
        "pyoxigraph",
        "oxrdflib",
        "rdflib",
        "pyshacl",
        "networkx",
        "fastapi",
        "uvicorn",
    ):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    endpoint = tools.get("rdflib-endpoint")
    endpoint_python = str(Path(endpoint).parent / "python") if endpoint else None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "packages": packages,
        "tools": {
            "wrk": _version([wrk, "-v"]) if (wrk := tools.get("wrk")) else None,
            "oxigraph": _version([oxi, "--version"]) if (oxi := tools.get("oxigraph")) else None,
            "rdflib-endpoint": _version(
                [
                    endpoint_python or "python",
                    "-c",
                    "import importlib.metadata as m; print('rdflib-endpoint', m.version('rdflib-endpoint'), "
                    "'rdflib', m.version('rdflib'))",
                ]
            )
            if endpoint
            else None,
        },
    }


# ---------------------------------------------------------------------- the synthetic world


def _generator_digest() -> str:
    return hashlib.sha256((BENCH_DIR / "world.py").read_bytes()).hexdigest()[:16]


def ensure_world(size: int, data_dir: Path) -> dict[str, Any]:
    """The world of `size` triples as N-Triples and Turtle, generated once per generator version."""
    stem = f"world-{size}"
    meta = data_dir / f"{stem}.json"
    digest = _generator_digest()
    if meta.exists():
        known = json.loads(meta.read_text())
        files = known.get("files", {})
        if known.get("generator") == digest and all(Path(p).exists() for p in files.values()):
            known["cached"] = True
            return known
    made = world.write(size, data_dir, SEED, stem)
    made["generator"] = digest
    made["cached"] = False
    meta.write_text(json.dumps(made, indent=1))
    return made


# ---------------------------------------------------------------------- child processes


@dataclass
class ChildResult:
    returncode: int | None  # None: stopped at the cap
    seconds: float
    max_rss_mib: float
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def json(self) -> dict[str, Any]:
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                parsed: dict[str, Any] = json.loads(line)
                return parsed
        raise RuntimeError(f"no JSON from child: {self.stderr[-2000:]}")


def run_child(cmd: Sequence[str], cap: float | None, env: dict[str, str] | None = None) -> ChildResult:
    """Run a command in its own process group; its peak RSS comes from wait4's rusage of that child
    (and the descendants it waited for). At `cap` seconds the group is killed."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        # SIGINT first, so that a py-spy wrapper writes what it recorded; then SIGKILL.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        time.sleep(3)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(cap, kill) if cap else None
    if timer:
        timer.start()
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else "")),
        threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else "")),
    ]
    for r in readers:
        r.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if timer:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    # The group may hold grandchildren (query workers); none must outlive the measurement.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return ChildResult(
        None if killed.is_set() else proc.returncode,
        seconds,
        usage.ru_maxrss / 1024,
        "".join(out),
        "".join(err),
    )


def py_spy_wrap(ctx: Context, cmd: list[str], name: str) -> tuple[list[str], Path | None]:
    """With --profile, the command run under `py-spy record` (raw stacks into the results)."""
    spy = ctx.tools.get("py-spy")
    if not ctx.profile or not spy:
        return cmd, None
    target = ctx.out / "profiles" / f"{name}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    record = [spy, "record", "--nonblocking", "-r", "25", "--format", "raw", "-o", str(target)]
    return [*record, "--", *cmd], target


class Profiler:
    """With --profile, `py-spy record --pid` attached to a running server (and its workers)
    until `stop()`; the raw stacks go into the results' profiles/ directory."""

    def __init__(self, ctx: Context, pid: int, name: str) -> None:
        spy = ctx.tools.get("py-spy")
        self.path: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        if ctx.profile and spy:
            self.path = ctx.out / "profiles" / f"{name}.txt"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            cmd = [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "-r", "25"]
            cmd += ["--format", "raw"]
            self.proc = subprocess.Popen(
                [*cmd, "-o", str(self.path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

    def stop(self) -> list[dict[str, Any]] | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return summarize_profile(self.path)


def summarize_profile(path: Path | None, top: int = 12) -> list[dict[str, Any]] | None:
    """The frames where most samples were, inclusive, from py-spy's raw (collapsed) stacks."""
    if path is None or not path.exists():
        return None
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            if "(" in frame and (
                "/graph/" in frame or "/api/" in frame or "pyshacl" in frame or "rdflib" in frame
            ):
                inclusive[frame] = inclusive.get(frame, 0) + n
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    return [{"frame": f, "share": round(n / total, 3)} for f, n in ranked] if total else None


# ---------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tree(pid: int) -> list[int]:
    """A process and all its descendants, from /proc/<pid>/task/*/children."""
    out = [pid]
    i = 0
    while i < len(out):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{out[i]}/task").iterdir():
                with contextlib.suppress(OSError):
                    out.extend(int(c) for c in (task / "children").read_text().split())
        i += 1
    return out


def _status_kib(pid: int, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _pss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


@dataclass
class Memory:
    rss_mib: float  # the server process itself
    peak_rss_mib: float  # its VmHWM
    tree_rss_mib: float  # with its children (query workers), shared pages counted in each
    tree_pss_mib: float  # with its children, shared pages split between them
    processes: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def memory_of(pid: int) -> Memory:
    tree = _tree(pid)
    return Memory(
        _status_kib(pid, "VmRSS") / 1024,
        _status_kib(pid, "VmHWM") / 1024,
        sum(_status_kib(p, "VmRSS") for p in tree) / 1024,
        sum(_pss_kib(p) for p in tree) / 1024,
        len(tree),
    )


class Server:
    """A server process in its own session, ready when `probe` answers 200."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        base: str,
        probe: str,
        log: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.base = base
        self.probe = probe
        self.log_path = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        self.ready_seconds: float | None = None
        self.error: str | None = None
        self.memory_at_ready: Memory | None = None
        self.startup_profile: list[dict[str, Any]] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, cap: float | None) -> float | None:
        """Poll the probe every 50 ms; the seconds from launch to the first 200, or None."""
        import httpx

        deadline = self.started + (cap or 3600)
        with httpx.Client(timeout=5) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    self.error = f"exited with {self.proc.returncode}: {self.tail()}"
                    return None
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.base + self.probe).status_code == 200:
                        self.ready_seconds = time.perf_counter() - self.started
                        self.memory_at_ready = memory_of(self.pid)
                        return self.ready_seconds
                time.sleep(0.05)
        self.error = f"not ready after {cap:g} s" if cap else "not ready"
        return None

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def memory(self) -> Memory:
        return memory_of(self.pid)

    def stop(self) -> None:
        """SIGTERM to the server's own process group, SIGKILL after 10 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers left in the group
        self._log.close()


def store_dir(ctx: Context, size: int, name: str) -> Path:
    return ctx.work_dir / f"{name}-{size}"


def prepared_store(ctx: Context, size: int) -> tuple[Path, dict[str, Any]]:
    """A pactgraph `oxigraph:` store holding the world as `pactgraph ingest` lays it out (ontology
    graph, the file's named graph and its description), filled by pyoxigraph's bulk loader so
    that serving can be measured even while `ingest` itself is slow (see the ingest part)."""
    path = store_dir(ctx, size, "pactgraph-store")
    marker = path / ".bench-prepared.json"
    if marker.exists():
        return path, json.loads(marker.read_text())
    shutil.rmtree(path, ignore_errors=True)
    w = ctx.world(size)
    res = run_child(
        [PYTHON, str(CHILD), "prepare-store", "--file", w["files"]["nt"], "--store", str(path)], None
    )
    if res.returncode != 0:
        raise RuntimeError(f"prepare-store failed: {res.stderr[-3000:]}")
    info = res.json()
    # A copy for measuring the projection in a child while a server holds the store's lock.
    shutil.rmtree(projection_store(ctx, size), ignore_errors=True)
    shutil.copytree(path, projection_store(ctx, size))
    marker.write_text(json.dumps(info))
    return path, info


def bulk_store(ctx: Context, size: int) -> Path:
    """The N-Triples file bulk-loaded by the ingest part into pactgraph's graph for it, kept so
    that the servers' stores are copies of it rather than loaded again."""
    return store_dir(ctx, size, "bulk-load-nt")


def projection_store(ctx: Context, size: int) -> Path:
    return store_dir(ctx, size, "projection-store")


def pactgraph_server(
    ctx: Context, size: int, env: dict[str, str] | None = None, keep_snapshot: bool = False
) -> Server:
    """`pactgraph serve` over the prepared store at this size, launched once and kept for the
    size's parts (whatever `env` it was started with); its launch-to-ready time is the start-up
    figure. A snapshot an earlier run left beside the store is deleted first, so the launch is
    cold, unless `keep_snapshot` (the start-up part's second launch)."""
    key = ("pactgraph", size)
    if key in ctx.servers:
        return ctx.servers[key]
    path, _info = prepared_store(ctx, size)
    if not keep_snapshot:
        store_dir = Path(path).resolve()
        shutil.rmtree(store_dir.with_name(store_dir.name + ".pactgraph"), ignore_errors=True)
    port = free_port()
    exe = str(Path(PYTHON).parent / "pactgraph")
    cmd = [exe, "serve", "--store", f"oxigraph:{path}", "--host", "127.0.0.1", "--port", str(port)]
    server = Server(
        "pactgraph",
        cmd,
        f"http://127.0.0.1:{port}",
        "/readyz",
        ctx.out / "logs" / f"pactgraph-{size}{'-' + '-'.join(env) if env else ''}.log",
        env=env,
    )
    profiler = Profiler(ctx, server.pid, f"serve-startup-{size}")
    server.wait_ready(ctx.cap(ctx.scale.ready_cap))
    server.startup_profile = profiler.stop()
    ctx.servers[key] = server
    return server


def oxigraph_server(ctx: Context, size: int) -> Server | None:
    """The raw `oxigraph serve` on a store loaded by `oxigraph load`: the same file in the same
    named graph, the ontology in its graph, queries over the union (as pactgraph's)."""
    key = ("oxigraph", size)
    if key in ctx.servers:
        return ctx.servers[key]
    exe = ctx.tools.get("oxigraph")
    if not exe:
        return None
    path = store_dir(ctx, size, "oxigraph-server-store")
    w = ctx.world(size)
    graph = "https://pactgraph.org/graph/" + Path(w["files"]["nt"]).stem
    marker = path / ".bench-loaded"
    if not marker.exists():
        shutil.rmtree(path, ignore_errors=True)
        from pactgraph.ontology import GRAPH_BASE, ONTOLOGY_PATH

        loads = [(w["files"]["nt"], graph), (str(ONTOLOGY_PATH), GRAPH_BASE + "ontology")]
        bulk = bulk_store(ctx, size)
        if (bulk / ".bench-complete").exists():
            shutil.copytree(bulk, path, ignore=shutil.ignore_patterns(".bench-complete"))
            loads = loads[1:]
        for file, g in loads:
            load = subprocess.run(
                [exe, "load", "--location", str(path), "--file", file, "--graph", g],
                capture_output=True,
                text=True,
            )
            if load.returncode != 0:
                raise RuntimeError(f"oxigraph load failed: {load.stderr[-2000:]}")
        marker.write_text("ok")
    port = free_port()
    # No --timeout-s: it keeps a thread per query alive and crashed the server under wrk.
    cmd = [exe, "serve", "--location", str(path), "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    server = Server(
        "oxigraph",
        cmd,
        f"http://127.0.0.1:{port}",
        "/query?query=ASK%7B%7D",
        ctx.out / "logs" / f"oxigraph-{size}.log",
    )
    server.wait_ready(ctx.cap(120))
    ctx.servers[key] = server
    return server


def rdflib_endpoint_server(ctx: Context, size: int) -> Server | None:
    """rdflib-endpoint serving the same N-Triples file (parsed into rdflib's memory store)."""
    key = ("rdflib-endpoint", size)
    if key in ctx.servers:
        return ctx.servers[key]
    exe = ctx.tools.get("rdflib-endpoint")
    if not exe:
        return None
    w = ctx.world(size)
    port = free_port()
    cmd = [exe, "serve", w["files"]["nt"], "--host", "127.0.0.1", "--port", str(port)]
    server = Server(
        "rdflib-endpoint",
        cmd,
        f"http://127.0.0.1:{port}",
        "/?query=ASK%7B%7D",
        ctx.out / "logs" / f"rdflib-endpoint-{size}.log",
    )
    server.wait_ready(ctx.cap(300))
    ctx.servers[key] = server
    return server


# ---------------------------------------------------------------------- figures, tables, JSON


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def geomean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and v > 0]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    return str(value)


def table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain text table (also pasted into the README)."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    line = "  ".join("-" * w for w in widths)
    out = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)), line]
    for row in cells:
        out.append(
            "  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=False))
        )
    text = "\n".join(out)
    print(text + "\n", flush=True)
    return text


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,]*\.?\d+(e[-+]?\d+)?|—", cell))


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, so the output is well formed everywhere."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_result(ctx: Context, part: str, results: dict[str, Any], tables: list[str]) -> Path:
    path = ctx.out / f"{part}.json"
    doc = {
        "part": part,
        "scale": ctx.scale.name,
        "limits": ctx.limits,
        "machine": machine(ctx.tools),
        "results": results,
        "tables": tables,
    }
    path.write_text(json.dumps(_clean(doc), indent=1, allow_nan=False) + "\n")
    return path

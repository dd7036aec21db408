"""The sandbox of a process that evaluates user SPARQL: no network, a memory bound, killable.

User queries and updates are evaluated by Oxigraph in processes forked from the server (query
workers, graph/workers.py; update evaluation, `run_forked` below). Whatever a future bypass of
the SERVICE/LOAD checks (graph/sparql.py) gets past them, such a process cannot reach the
network: a seccomp filter makes `socket()`, `socketpair()` and `io_uring_setup()` fail with EPERM
for every address family (a worker talks only through the connection it inherited, which stays
open; io_uring is refused because it can open sockets without the `socket` system call). The
filter is installed through libseccomp (Debian's libseccomp2), which writes the BPF program for
the machine's architecture and refuses the other ABIs (x32, i386) on x86_64. Where it cannot be
installed (not Linux, no libseccomp), one log line says so and the keyword checks stand alone.

Memory: RLIMIT_DATA, set in the child to its data size at the fork plus the budget. It counts
the private writable mappings (heap and anonymous mmap, since Linux 4.7): what Rust's and
Python's allocators take, and not the store's file mappings, thread stacks or the untouched
address space malloc reserves, so it holds the evaluation's own growth to the budget
(RLIMIT_AS would also count those, and RSS polled from outside lets a query grow hundreds of
MB between two polls). An allocation past it fails: Python raises MemoryError, Rust aborts the
process (SIGABRT); either way the caller reports the memory limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import pickle
import resource
import select
import signal
import stat
import struct
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pyoxigraph as ox

from pactgraph.graph.errors import Kind, PactgraphError
from pactgraph.graph.store import Delta, Store

T = TypeVar("T")
log = logging.getLogger("pactgraph.sandbox")

REFUSED_REMOTE = "SERVICE/LOAD is refused: a query may not read remote endpoints"
"""What a client is told when the engine tried to reach the network from the sandbox."""

# libseccomp's actions (seccomp.h): allow, or fail the call with an errno.
_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_ACT_ERRNO = 0x00050000
_DENIED_CALLS = ("socket", "socketpair", "io_uring_setup")

_warned = False

# A child forked from a store shows that the engine answers (`engine_probe`) within PROBE_WAIT s.
PROBE_WAIT = 2.0  # a sound child answers in milliseconds; a stuck one never does
FORK_TRIES = 5
READY = b"R"
_PROBE_GRAPH = ox.NamedNode("urn:pactgraph:probe")


def _libseccomp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.restype = ctypes.c_int
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_load.restype = ctypes.c_int
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.restype = None
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _no_network() -> bool:
    """Install the filter in this process (and the threads it starts later); False if it cannot
    be. Called in a freshly forked child: it has one thread, so nothing escapes the filter."""
    lib = _libseccomp()
    if lib is None:
        return False
    ctx = lib.seccomp_init(_SCMP_ACT_ALLOW)
    if not ctx:
        return False
    try:
        for name in _DENIED_CALLS:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:  # not a call of this architecture (io_uring on an old kernel's headers)
                continue
            if lib.seccomp_rule_add(ctx, _SCMP_ACT_ERRNO | errno.EPERM, nr, 0) != 0:
                return False
        # Loading also sets no_new_privs (libseccomp's default), which an unprivileged filter needs.
        return lib.seccomp_load(ctx) == 0
    finally:
        lib.seccomp_release(ctx)


def _data_size() -> int:
    """Bytes of this process's data segment (VmData: private writable mappings)."""
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def enter(memory_mib: int | None) -> bool:
    """Sandbox this (forked) process: no network, and at most `memory_mib` MiB of data growth.
    Returns whether the network is taken away (the caller logs nothing: `warn_once` does)."""
    if memory_mib:
        with contextlib.suppress(OSError, ValueError):
            limit = _data_size() + memory_mib * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    try:
        return _no_network()
    except Exception:
        return False


def warn_once(sandboxed: bool) -> None:
    """In the parent: one log line, the first time a child reports that it could not be sandboxed."""
    global _warned
    if not sandboxed and not _warned:
        _warned = True
        log.warning(
            "seccomp is not available here (not Linux, or no libseccomp2): query and update "
            "processes keep network access; only the SERVICE/LOAD checks stand"
        )


_available: bool | None = None


def available() -> bool:
    """Whether this machine can sandbox: tried once, in a throwaway child, at first use."""
    global _available
    if _available is None:
        _available = _probe()
    return _available


def _probe() -> bool:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if _no_network() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def reached_network(exc: BaseException) -> bool:
    """Whether an engine error in a sandboxed process comes from the filter: a connection or a
    name lookup the engine tried (SERVICE, LOAD) failed with EPERM. Query evaluation makes no
    other system call that answers EPERM, and no name lookup (which fails without a socket)."""
    text = str(exc)
    return "os error 1)" in text or "Operation not permitted" in text or "failed to lookup address" in text


def memory_message(what: str, memory_mib: int | None, stopped: str = "") -> str:
    return (
        f"{what} went over the memory limit of {memory_mib} MiB and was stopped{stopped}; narrow "
        "it with LIMIT or more specific patterns (the limit is PACTGRAPH_QUERY_MEMORY)"
    )


def child_setup(keep: int) -> None:
    """What every forked evaluator does first: drop the sockets and pipes the fork copied (but
    its own channel `keep`), die with the server, and leave signals to the parent."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:  # no /proc (not Linux): nothing to drop that we can find
        fds = []
    for name in fds:
        fd = int(name)
        if fd == keep:
            continue
        with contextlib.suppress(OSError):
            mode = os.fstat(fd).st_mode
            if stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode):
                os.close(fd)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    # The server's handlers came with the fork; their wakeup socket was just closed, so a Ctrl+C
    # or SIGTERM reaching the whole group would print a traceback here. The parent stops us.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --------------------------------------------------------------------------------- one-off children

_LEN = struct.Struct("!Q")


def run_forked(
    work: Callable[[], T],
    *,
    timeout: float | None,
    memory_mib: int | None,
    what: str,
    fork_point: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    stopped: str = "",
    probe: Callable[[], object] | None = None,
) -> T:
    """Run `work` in a sandboxed child forked from this process (inside `fork_point`, e.g. the
    store's write lock, so it copies no half-made state) and return its pickled result. The
    child is killed at `timeout` seconds (TIMEOUT; None: no deadline) or dies over `memory_mib`
    (TIMEOUT, naming the memory limit); `stopped` is added to either message. A PactgraphError
    raised by `work` is raised here. With a `probe` (`engine_probe`), a child stuck on a lock it
    copied is killed and forked again. Blocks the calling thread: call it off the event loop."""
    at = None if timeout is None else time.monotonic() + timeout
    for _ in range(FORK_TRIES):
        read, write = os.pipe()
        with fork_point():
            pid = os.fork()
        if pid == 0:  # the child: never returns
            _child(read, write, work, memory_mib, what, probe)
        os.close(write)
        if probe is None or _answered(read, pid):
            break
        os.close(read)  # forked while the engine's lock was held: it never comes free, fork again
    else:
        raise PactgraphError(Kind.UNAVAILABLE, f"{what} could not be started; try again")
    try:
        data = _read_all(read, pid, at, timeout, what, stopped)
    finally:
        os.close(read)
    status = _reap(pid)
    complete = len(data) >= _LEN.size and len(data) == _LEN.size + _LEN.unpack_from(data)[0]
    if not complete:
        if (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT) or _exit_code(status) == 3:
            raise PactgraphError(Kind.TIMEOUT, memory_message(what, memory_mib, stopped))
        raise PactgraphError(Kind.UNAVAILABLE, f"{what} stopped unexpectedly (status {status}); try again")
    outcome = pickle.loads(data[_LEN.size :])
    warn_once(outcome[1])
    if outcome[0] == "ok":
        result: T = outcome[2]
        return result
    if outcome[0] == "memory":
        raise PactgraphError(Kind.TIMEOUT, memory_message(what, memory_mib, stopped))
    raise PactgraphError(Kind(outcome[2]), outcome[3], outcome[4])


def _child(
    read: int,
    write: int,
    work: Callable[[], Any],
    memory_mib: int | None,
    what: str,
    probe: Callable[[], object] | None,
) -> None:
    """The forked child of `run_forked`: sandboxed, it shows that the engine answers (`probe`), then
    sends its work's pickled outcome and exits; it never returns."""
    code = 0
    try:
        os.close(read)
        child_setup(keep=write)
        sandboxed = enter(memory_mib)
        if probe is not None:
            with contextlib.suppress(Exception):  # an engine error here is met again by the work
                probe()
            os.write(write, READY)
        try:
            outcome: tuple[Any, ...] = ("ok", sandboxed, work())
        except PactgraphError as exc:
            if exc.kind == Kind.EVALUATION and sandboxed and reached_network(exc):
                outcome = ("error", sandboxed, Kind.BAD_INPUT.value, REFUSED_REMOTE, None)
            else:
                outcome = ("error", sandboxed, exc.kind.value, exc.message, exc.detail)
        except MemoryError:
            outcome = ("memory", sandboxed)
        except Exception as exc:
            if sandboxed and reached_network(exc):
                outcome = ("error", sandboxed, Kind.BAD_INPUT.value, REFUSED_REMOTE, None)
            else:
                msg = f"{what} could not be evaluated: {type(exc).__name__}: {exc}"
                outcome = ("error", sandboxed, Kind.EVALUATION.value, msg, None)
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write, "wb") as out:
            out.write(_LEN.pack(len(data)))
            out.write(data)
    except MemoryError:
        code = 3
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def engine_probe(store: Store) -> Callable[[], object] | None:
    """A read that takes the engine's database lock, for a child forked from `store` to run first.

    RocksDB's background threads (flushes, compactions, busy right after a write) take its DB
    mutex; a fork while one holds it gives a child whose mutex never comes free (it has no such
    thread), and whose first read hangs for ever. The child runs this read and says so; a child
    that does not within PROBE_WAIT is killed and forked again (FORK_TRIES times)."""
    native = store.oxigraph
    if native is None:
        return None
    return lambda: native.contains_named_graph(_PROBE_GRAPH)


def _answered(fd: int, pid: int) -> bool:
    """Whether the child showed within PROBE_WAIT that the engine answers; if not, it is killed."""
    ready, _, _ = select.select([fd], [], [], PROBE_WAIT)
    if ready and os.read(fd, len(READY)) == READY:
        return True
    _kill(pid)
    return False


def _exit_code(status: int) -> int | None:
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else None


def _read_all(
    fd: int, pid: int, deadline: float | None, timeout: float | None, what: str, stopped: str
) -> bytes:
    """The child's whole output, read as it comes; the child is killed at `deadline` (monotonic)."""
    chunks: list[bytes] = []
    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            _kill(pid)
            raise PactgraphError(
                Kind.TIMEOUT,
                f"{what} ran past the time limit of {timeout:g} s and was stopped{stopped} "
                "(the limit is PACTGRAPH_QUERY_TIMEOUT)",
            )
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


# --------------------------------------------------------------------------------- updates


def evaluate_update(store: Store, text: str, timeout: float | None, memory_mib: int | None) -> Delta:
    """What a SPARQL update would change (graph/update.py `evaluate`), worked out in a sandboxed
    child forked from the store as it is between writes: killed at `timeout` (or over its
    memory), the update is refused before anything is written. On the `sparql:` backend the
    remote server does the work, here in the calling thread."""
    from pactgraph.graph.update import evaluate  # a layer above this module

    if store.remote is not None:
        return evaluate(store, text)

    def work() -> tuple[list[ox.Quad], list[ox.Quad], list[ox.NamedNode], bool]:
        d = evaluate(store, text)
        return list(d.added), list(d.removed), list(d.dropped), d.every_graph

    added, removed, dropped, every_graph = run_forked(
        work,
        timeout=timeout,
        memory_mib=memory_mib,
        what="the update",
        fork_point=lambda: store.writing(bump=False),
        stopped="; nothing was written",
        probe=engine_probe(store),
    )
    batch = ox.Store()
    batch.extend(added)
    return Delta(added=batch, removed=set(removed), dropped=set(dropped), every_graph=every_graph)

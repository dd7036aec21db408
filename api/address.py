"""Where the `pactgraph serve` that holds an on-disk store can be reached.

An `oxigraph:PATH` store belongs to one process. While `serve` holds it, the CLI's read commands
ask that server over HTTP instead (api/readers.py): `serve` writes its address beside the store,
in the store's own directory of pactgraph files (PATH.pactgraph/, graph/store.py), when it
starts, and removes it when it stops. A server killed without stopping leaves the file behind;
the process id in it tells a reader that nobody answers there any more.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from pactgraph.graph.store import META_SUFFIX, StoreUrl

ADDRESS_FILE = "server.json"


def address_file(store_url: str) -> Path | None:
    """PATH.pactgraph/server.json for an `oxigraph:PATH` store; None for other stores."""
    parsed = StoreUrl.parse(store_url)
    if parsed.kind != "oxigraph":
        return None
    path = Path(parsed.location).expanduser().resolve()
    return path.with_name(path.name + META_SUFFIX) / ADDRESS_FILE


def client_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server listening on host:port."""
    if host in ("0.0.0.0", ""):  # every interface: this machine's loopback among them
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce(store_url: str, url: str) -> Path | None:
    """Write the address of this process's server beside the store (atomically)."""
    target = address_file(store_url)
    if target is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{ADDRESS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid(), "store": store_url}) + "\n")
    os.replace(tmp, target)
    return target


def withdraw(target: Path | None) -> None:
    """Remove the address this process wrote (and nobody else's: a later server's stays)."""
    if target is None:
        return
    with contextlib.suppress(OSError, ValueError):
        if json.loads(target.read_text()).get("pid") == os.getpid():
            target.unlink()


def running_server(store_url: str) -> str | None:
    """The URL of the live server that wrote its address beside this store, if there is one."""
    target = address_file(store_url)
    if target is None:
        return None
    try:
        found = json.loads(target.read_text())
        url, pid = str(found["url"]), int(found["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)  # signal 0: is the process still there?
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return url

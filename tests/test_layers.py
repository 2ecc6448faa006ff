"""The layers' imports run one way (README, "Layout"): tools and web -> services -> stores,
domain and nlu; nothing in the core imports an adapter or a platform library."""

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
}


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    crossing = [
        (str(path.relative_to(ROOT)), name)
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(f"{bad}.") for bad in FORBIDDEN[layer])
    ]
    assert crossing == []

"""Every Redis key name comes from `bot/stores/keys.py`, also the ones the queue's Lua scripts
build inside Redis."""

from __future__ import annotations

import re

from bot.stores import assignment, keys, queue_scripts
from tests.conftest import ROOT


def test_the_lua_scripts_build_the_same_key_names_as_the_python_side():
    scripts = "\n".join(value for module in (queue_scripts, assignment) for value in vars(module).values()
                        if isinstance(value, str) and "redis.call" in value)  # fmt: skip
    assert scripts, "the queue's Lua scripts were not found"
    built = set(re.findall(r"'(sb:[\w:-]*)'", scripts))
    named = {value for value in vars(keys).values() if isinstance(value, str) and value.startswith("sb:")}
    assert built and built <= named, f"Lua builds keys that keys.py does not name: {sorted(built - named)}"


def test_no_module_outside_keys_spells_a_redis_key():
    """A new key is named in keys.py, so that one file lists what the bot keeps in Redis."""
    spelled = []
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "adapters").glob("*.py"), *(ROOT / "intents").glob("*.py")]:
        if path.name == "keys.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if "redis.call" in code or re.search(r"'sb:[\w:-]*'\s*\.\.", code):
                continue  # Lua, checked against keys.py above
            not_a_key = "custom_id" in code or "template=" in code  # Discord button ids
            if re.search(r"""(?<![\w'"])f?["']sb:[\w{]""", code) and not not_a_key:
                spelled.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert spelled == []

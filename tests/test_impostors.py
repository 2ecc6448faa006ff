"""Impostor names: look-alike letters, digits and spacing tricks are caught; ordinary names,
and names that only mention the exchange, are not."""

from __future__ import annotations

import pytest

from bot.domain.impostors import ImpostorCheck

CHECK = ImpostorCheck("ExampleX", ("Maria Chen",))


@pytest.mark.parametrize("name", [
    "ExampleX Support", "ЕxampIeX  Suppоrt", "E x a m p l e X  A d m i n", "examp1ex_help", "Helpdesk ExampleX 24/7",
    "ExampleX Official Team", "EXAMPLEX", "Exampl3x", "Mаria Сhen", "Marla Chen", "ExampIeX Security",
    "Exam Plex Official", "ｅｘａｍｐｌｅｘ ｓｕｐｐｏｒｔ",
])  # fmt: skip
def test_imitations_are_caught(name):
    assert CHECK.imitates(name)


@pytest.mark.parametrize("name", [
    "Ana", "Bob Smith", "examplex fan", "Support Bot", "Alexander", "xiaoming", "cryptomaria", "Марина", "王小明",
    "Max", "Trader Joe (@joe_trades)",
])  # fmt: skip
def test_ordinary_names_are_not(name):
    assert CHECK.imitates(name) is None

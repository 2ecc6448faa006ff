"""Trained models are cached by a hash of their inputs."""

from __future__ import annotations

import shutil
import time

from bot import nlu


def test_a_current_model_is_not_retrained(model_path):
    said = []
    started = time.monotonic()
    assert nlu.train(say=said.append) == model_path
    assert said == [f"model up to date: {model_path.relative_to(nlu.ROOT)}"]
    assert time.monotonic() - started < 5


def test_the_hash_follows_the_training_data(tmp_path, monkeypatch):
    before = nlu.model_hash()
    data = tmp_path / "nlu"
    shutil.copytree(nlu.NLU_DATA_DIR, data)
    monkeypatch.setattr(nlu, "NLU_DATA_DIR", data)
    assert nlu.model_hash() == before, "the same data gives the same hash"
    (data / "en.yml").write_text((data / "en.yml").read_text() + "    - one more example\n")
    assert nlu.model_hash() != before
    assert not nlu.model_path().exists(), "changed data has no model until it is trained"

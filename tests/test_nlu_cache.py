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


def test_the_fast_classifier_gives_scikit_learns_numbers(pipeline):
    """Our prediction path skips scikit-learn's per-call checks; it must not change a digit."""
    import numpy as np
    from scipy.sparse import random as sparse_random

    from bot.nlu_components import TfidfLogisticRegressionClassifier

    graph = pipeline.nlu._agent.processor.graph_runner._instantiated_nodes
    component = next(node._component for node in graph.values()
                     if isinstance(node._component, TfidfLogisticRegressionClassifier))  # fmt: skip
    width = component.clf.named_steps["lr"].coef_.shape[1]
    X = sparse_random(50, width, density=0.002, format="csr", random_state=1)
    X.data = np.ceil(X.data * 3)
    np.testing.assert_allclose(component.predict_proba(X), component.clf.predict_proba(X), rtol=1e-9, atol=1e-12)

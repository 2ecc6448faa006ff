"""Trained models are cached by a hash of their inputs."""

from __future__ import annotations

import shutil
import time

from bot.nlu import model as nlu


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
    """Our prediction path skips scikit-learn's per-call checks, and the model keeps its weights
    as plain arrays: scikit-learn's own TF-IDF and logistic regression, given those weights,
    must not change a digit."""
    import numpy as np
    from scipy.sparse import random as sparse_random
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    from bot.nlu.components import TfidfLogisticRegressionClassifier

    component = pipeline.nlu.graph.component(TfidfLogisticRegressionClassifier)
    width = component._weights.shape[0]
    tfidf = TfidfTransformer(sublinear_tf=True)
    tfidf.idf_, tfidf.n_features_in_ = component._idf, width
    lr = LogisticRegression(multi_class="multinomial")
    lr.coef_, lr.intercept_, lr.classes_, lr.n_features_in_ = (
        component._weights.T, component._intercept, component.classes_, width)
    X = sparse_random(50, width, density=0.002, format="csr", random_state=1)
    X.data = np.ceil(X.data * 3)
    expected = lr.predict_proba(tfidf.transform(X))
    np.testing.assert_allclose(component.predict_proba(X), expected, rtol=1e-9, atol=1e-12)


def test_the_hash_follows_the_other_companies_word_list(tmp_path, monkeypatch):
    """The tokenizer reads `data/other_services.yml`: a new name there needs a new model."""
    before = nlu.model_hash()
    services = tmp_path / "other_services.yml"
    services.write_text(nlu.SERVICES_FILE.read_text(encoding="utf-8") + '  - "one more service"\n', encoding="utf-8")
    monkeypatch.setattr(nlu, "SERVICES_FILE", services)
    assert nlu.model_hash() != before


def test_the_answer_selector_reuses_the_classifiers_row_only_over_the_same_idf(pipeline):
    """The selector takes the TF-IDF row the classifier left on a message when both weigh
    n-grams alike; a row made over other weights is computed again, never read."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.answers import AnswerSelector
    from bot.nlu.components import TFIDF_ROW

    selector = pipeline.nlu.graph.component(AnswerSelector)
    own, foreign = object(), object()
    shared = Message(data={"text": "x"})
    shared.set(TFIDF_ROW, (selector._key, own))
    assert selector._rows([shared]) == [own]
    stranger = Message(data={"text": "x"})
    stranger.set(TFIDF_ROW, ("other weights", foreign))
    assert selector._rows([stranger]) != [foreign]


def test_training_examples_featurized_as_rasa_does_give_the_classifier_every_count(pipeline):
    """Rasa featurizes training examples with the featurizers' `process`, which leaves counts
    on each message (no sparse features): what the classifiers train on must hold them all,
    side by side, as wide as both vocabularies."""
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.components import MultilingualTokenizer, sentence_features
    from bot.nlu.featurizer import SentenceCountsFeaturizer

    graph = pipeline.nlu.graph
    examples = [Message(data={"text": text}) for text in ("how do I reset my password", "提现一直没到账", "hola")]
    data = TrainingData(training_examples=examples)
    graph.component(MultilingualTokenizer).process_training_data(data)
    featurizers = [n._component for n in graph.nodes.values() if isinstance(n._component, SentenceCountsFeaturizer)]
    for featurizer in featurizers:
        featurizer.process_training_data(data)
    X = sentence_features(examples)
    assert X.shape == (3, sum(len(f.vectorizers[TEXT].vocabulary_) for f in featurizers))
    assert all(n > 0 for n in X.getnnz(axis=1)), "every example has counts"

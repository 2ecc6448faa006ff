"""The answer selector: which of an intent's questions a message asks (`two_factor_auth/enable`
or `two_factor_auth/lost_device`), a Rasa component that runs after the intent classifier.

Training data names the questions in Rasa's retrieval-intent form (`- intent: fees/withdrawal_fees`):
Rasa gives the classifier the intent (`fees`) and keeps the full name as the example's
`intent_response_key`. Rasa's own ResponseSelector would learn these with a TensorFlow model
(minutes of training, milliseconds a message); here each split intent gets a small logistic
regression over the same TF-IDF features, fitted on that intent's examples alone (seconds),
and a message's answers are ranked by P(intent) x P(question | intent) for its likely intents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

from bot.nlu.components import TFIDF_ROW, counted_tfidf_rows, idf_key, sentence_features, softmax, tfidf_rows

# Intents whose questions are ranked for a message: those at least this likely, at most this many.
MIN_INTENT_PROBABILITY = 0.02
MAX_INTENTS = 3


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class AnswerSelector(GraphComponent):
    """Ranks the answer ids of a message's likely intents as `answer_ranking`
    ([{"name": "fees/withdrawal_fees", "confidence": 0.71}, ...], the most likely first)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"C": 10.0, "max_iter": 1000, "sublinear_tf": True, "random_state": 42}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        self.config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._idf = np.zeros(0)
        self._key = ""
        self._models: dict[str, _Model] = {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AnswerSelector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        X = sentence_features(examples)
        self._idf = TfidfTransformer(sublinear_tf=self.config["sublinear_tf"]).fit(X).idf_.astype(np.float64)
        self._key = idf_key(self._idf)
        rows = tfidf_rows(X, self._idf, self.config["sublinear_tf"])
        by_intent: dict[str, list[int]] = {}
        for i, example in enumerate(examples):
            if example.get(INTENT_RESPONSE_KEY):
                by_intent.setdefault(example.get(INTENT), []).append(i)
        for intent, index in sorted(by_intent.items()):
            labels = [examples[i].get(INTENT_RESPONSE_KEY) for i in index]
            own = rows[index]
            columns = np.unique(own.indices).astype(np.int64)  # the n-grams this intent's examples use
            if len(set(labels)) < 2:
                self._models[intent] = _Model(columns, np.zeros((len(columns), 1)), np.zeros(1), [labels[0]])
                continue
            model = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"],
                                       random_state=self.config["random_state"], class_weight="balanced")  # fmt: skip
            model.fit(own[:, columns], labels)
            self._models[intent] = _Model(columns, *_as_softmax(model))
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Plain arrays (`numpy.savez`, no pickle): nothing executable is loaded back."""
        arrays: dict[str, np.ndarray] = {"idf": self._idf, "intents": np.array(sorted(self._models))}
        for n, intent in enumerate(sorted(self._models)):
            m = self._models[intent]
            arrays[f"c{n}"], arrays[f"w{n}"], arrays[f"b{n}"], arrays[f"a{n}"] = (
                m.columns, m.weights, m.bias, np.array(m.answers))
        with self._storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / "answers.npz", **arrays)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> AnswerSelector:
        selector = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as model_dir, np.load(model_dir / "answers.npz") as arrays:
            selector._idf = arrays["idf"]
            selector._key = idf_key(selector._idf)
            for n, intent in enumerate(arrays["intents"]):
                selector._models[str(intent)] = _Model(arrays[f"c{n}"], arrays[f"w{n}"], arrays[f"b{n}"],
                                                       [str(a) for a in arrays[f"a{n}"]])  # fmt: skip
        return selector

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets `answer_ranking` on each message (after the intent classifier ranked its intents)."""
        for message, row in zip(messages, self._rows(messages), strict=True):
            ranked = []
            likely = [r for r in message.get("intent_ranking") or [] if r["confidence"] >= MIN_INTENT_PROBABILITY]
            for intent in likely[:MAX_INTENTS]:
                if intent["name"] not in self._models:
                    continue
                model = self._models[intent["name"]]
                shares = model.shares(row.indices, row.data)
                ranked += [(a, intent["confidence"] * float(p)) for a, p in zip(model.answers, shares, strict=True)]
            ranked.sort(key=lambda item: -item[1])
            message.set("answer_ranking", [{"name": a, "confidence": p} for a, p in ranked], add_to_output=True)
        return messages

    def _rows(self, messages: list[Message]) -> list:
        """Each message's TF-IDF row: the intent classifier's when it was computed over the same
        IDF weights (it is, when both trained on the same examples), else computed here."""
        shared = [message.get(TFIDF_ROW) for message in messages]
        if all(item and item[0] == self._key for item in shared):
            return [item[1] for item in shared]
        counted = counted_tfidf_rows(messages, self._idf, self.config["sublinear_tf"])
        if counted is not None:
            return counted
        return list(tfidf_rows(sentence_features(messages), self._idf, self.config["sublinear_tf"]))


@dataclass(frozen=True)
class _Model:
    """One intent's questions: weights over the n-gram columns its training examples use."""

    columns: np.ndarray  # sorted feature columns
    weights: np.ndarray  # len(columns) x answers
    bias: np.ndarray
    answers: list[str]

    def shares(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """P(question | intent) for one message's TF-IDF row (its nonzero columns and values)."""
        if len(self.answers) == 1:
            return np.ones(1)
        at = np.minimum(np.searchsorted(self.columns, indices), len(self.columns) - 1)
        known = self.columns[at] == indices
        return softmax((values[known] @ self.weights[at[known]] + self.bias)[None, :])[0]


def _as_softmax(model: LogisticRegression) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Weights and bias that give the model's probabilities through a softmax: a two-class
    model keeps one weight vector (its sigmoid is a softmax over [0, score])."""
    answers = [str(c) for c in model.classes_]
    if len(answers) > 2:
        return np.ascontiguousarray(model.coef_.T), model.intercept_.astype(np.float64), answers
    weights = np.hstack([np.zeros_like(model.coef_.T), model.coef_.T])
    return np.ascontiguousarray(weights), np.array([0.0, float(model.intercept_[0])]), answers

"""The NLU step: Rasa 3.6 open source, trained from `data/nlu/` and run in-process.

A trained model is cached under `models/` by a hash of everything that shapes it (the
training data, the pipeline config, the custom components, Rasa's version), so tests and
restarts load it instead of retraining.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol

from bot.config import ROOT
from bot.domain.entities import SERVICES_FILE
from bot.nlu.loading import PredictGraph, defer_training_imports, stale_unpacked, unpacked

# Before any Rasa import: no telemetry (there is no network to send it to, and no reason to),
# and TensorFlow's start-up chatter off.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

NLU_DATA_DIR = ROOT / "data" / "nlu"
NLU_CONFIG = ROOT / "data" / "nlu_config.yml"
COMPONENTS = tuple(ROOT / "bot" / "nlu" / name for name in ("components.py", "featurizer.py", "answers.py"))
MODELS_DIR = Path(os.environ.get("SUPPORTBOT_MODELS_DIR", ROOT / "models"))

log = logging.getLogger(__name__)


class ModelMissing(RuntimeError):
    """No trained model matches the current training data and config."""


@dataclass(frozen=True)
class NluResult:
    intent: str
    confidence: float
    runner_up: float
    ranking: tuple[tuple[str, float], ...] = ()
    # The most likely answer ids (`two_factor_auth/enable`), the most likely first.
    answers: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_rasa(cls, parsed: dict) -> NluResult:
        """From Rasa's parse result (the same shape in-process and over HTTP)."""
        ranking = tuple((r["name"], float(r["confidence"])) for r in parsed.get("intent_ranking") or [])
        answers = tuple((r["name"], float(r["confidence"])) for r in parsed.get("answer_ranking") or [])
        intent = parsed.get("intent") or {}
        runner_up = ranking[1][1] if len(ranking) > 1 else 0.0
        return cls(intent.get("name") or "", float(intent.get("confidence") or 0.0), runner_up, ranking, answers)

    def probability(self, intent: str) -> float:
        return next((confidence for name, confidence in self.ranking if name == intent), 0.0)

    def answer_for(self, intent: str) -> tuple[str, float]:
        """Which of `intent`'s questions was most likely asked, and its share of the intent's
        probability; (intent, 1.0) when the intent has no questions of its own."""
        mine = [(name, p) for name, p in self.answers if name.split("/")[0] == intent and "/" in name]
        if not mine:
            return intent, 1.0
        best, p = max(mine, key=lambda item: item[1])
        return best, p / max(self.probability(intent), sum(q for _, q in mine), 1e-9)


def quiet_rasa() -> None:
    """Rasa logs every parsed text at debug level through structlog: keep it to warnings, so
    no user text reaches the logs from there."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    for name in ("rasa", "tensorflow", "absl", "sanic", "sanic.root", "sanic.error", "sanic.access", "matplotlib"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _training_inputs() -> list[Path]:
    return [NLU_CONFIG, *COMPONENTS, SERVICES_FILE, *sorted(NLU_DATA_DIR.glob("*.yml"))]


def model_hash() -> str:
    """A hash of everything a trained model depends on."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    for path in _training_inputs():
        if path.exists():
            digest.update(f"{path.parent.name}/{path.name}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def model_path(models_dir: Path = MODELS_DIR) -> Path:
    return models_dir / f"nlu-{model_hash()}.tar.gz"


def cached_model(models_dir: Path = MODELS_DIR) -> Path:
    """The model for the current inputs, or ModelMissing if it was never trained."""
    path = model_path(models_dir)
    if not path.exists():
        raise ModelMissing(f"no trained model for the current data ({path.name}): run `python -m bot train`")
    return path


def train(force: bool = False, models_dir: Path = MODELS_DIR, say: Callable[[str], None] = print) -> Path:
    """Train unless a model for the current inputs is cached; returns the model's path. The
    model is left unpacked beside its archive too (`loading.unpacked`), as a start reads it:
    an image trained at build time starts without unpacking."""
    target = model_path(models_dir)
    if target.exists() and not force:
        say(f"model up to date: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        unpacked(target)
        return target
    files = sorted(NLU_DATA_DIR.glob("*.yml"))
    say(f"training {target.name} from {len(files)} files ({', '.join(p.stem for p in files)}) with {NLU_CONFIG.name}")
    started = time.monotonic()
    quiet_rasa()
    # Rasa says when each component starts and finishes training: that is the progress.
    logging.getLogger("rasa.engine.training.hooks").setLevel(logging.INFO)
    # Rasa's own training cache keys a component by its config and data, not by its code or the
    # files it reads (our tokenizer's word list): it could restore a stale output. This model is
    # cached whole, by the hash of all its inputs (`model_hash`), instead.
    os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")
    from rasa.model_training import train_nlu

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # Rasa imports the custom components by module path
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir) as scratch:
        produced = train_nlu(str(NLU_CONFIG), str(NLU_DATA_DIR), scratch, fixed_model_name="model")
        if not produced:
            raise RuntimeError("Rasa produced no model: check the training data above")
        shutil.move(produced, target)  # appear atomically: a half-written model is never loaded
    for stale in models_dir.glob("nlu-*.tar.gz"):
        if stale != target:
            stale.unlink()
    for stale in stale_unpacked(models_dir, target):
        shutil.rmtree(stale, ignore_errors=True)
    unpacked(target)
    say(f"trained in {time.monotonic() - started:.1f} s: {target}")
    return target


class NluParser(Protocol):
    """What the pipeline needs of the NLU step."""

    async def parse(self, text: str) -> NluResult: ...


class NluModel:
    """A trained Rasa model loaded in this process: its prediction graph (`bot/nlu/loading.py`)."""

    def __init__(self, graph: PredictGraph) -> None:
        self.graph = graph

    @classmethod
    def load(cls, path: Optional[Path] = None) -> NluModel:
        quiet_rasa()
        defer_training_imports()
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))  # Rasa imports the custom components by module path
        return cls(PredictGraph(unpacked(Path(path) if path else cached_model())))

    async def parse(self, text: str) -> NluResult:
        """The most likely intent, its confidence, and the runner-up's confidence."""
        # The graph straight away: Rasa's processor around it rebuilds an empty dialogue domain
        # on every call to check it, which an NLU-only model never needs.
        from rasa.core.channels.channel import UserMessage
        from rasa.engine.constants import PLACEHOLDER_MESSAGE

        # An id of our own: without one Rasa draws a random UUID (a getrandom call) nobody reads.
        messages = self.graph.run({PLACEHOLDER_MESSAGE: [UserMessage(text, message_id="parse")]})
        return NluResult.from_rasa(messages[0].as_dict(only_output_properties=True))


class RasaHttpNlu:
    """The NLU step over HTTP, against Rasa's own server (`rasa run --enable-api`,
    `POST /model/parse`): the set-up most teams build by hand, kept for comparison."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self._session = None

    async def parse(self, text: str) -> NluResult:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self.url, json={"text": text}) as response:
            response.raise_for_status()
            return NluResult.from_rasa(await response.json())

"""A start loads the trained model unpacked once beside its archive, without TensorFlow."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from bot.config import ROOT
from bot.nlu.loading import unpacked


def _archive(path: Path, files: dict[str, str], mtime_ns: int) -> Path:
    """A model archive laid out as Rasa's (`metadata.json`, `components/...`)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(name)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def test_the_model_is_unpacked_once_and_again_when_its_archive_changes(tmp_path):
    archive = _archive(tmp_path / "nlu-abc.tar.gz", {"metadata.json": '{"model_id": "first"}',
                                                     "components/a/weights.txt": "1"}, 10**18)  # fmt: skip
    folder = unpacked(archive)
    assert folder == tmp_path / "nlu-abc"
    assert json.loads((folder / "metadata.json").read_text())["model_id"] == "first"
    (folder / "components" / "a" / "weights.txt").write_text("touched")
    assert unpacked(archive) == folder
    assert (folder / "components" / "a" / "weights.txt").read_text() == "touched", "not unpacked again"

    # Trained again under the same hash (`train --force`): the new archive's contents are read.
    _archive(archive, {"metadata.json": '{"model_id": "second"}', "components/b/weights.txt": "2"}, 2 * 10**18)
    assert unpacked(archive) == folder
    assert json.loads((folder / "metadata.json").read_text())["model_id"] == "second"
    assert not (folder / "components" / "a").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["nlu-abc", "nlu-abc.tar.gz"], "no scratch folder left"


def test_an_archive_member_outside_the_folder_is_refused(tmp_path):
    (tmp_path / "models").mkdir()
    archive = _archive(tmp_path / "models" / "nlu-bad.tar.gz", {"metadata.json": "{}", "../escaped.txt": "x"}, 10**18)
    with pytest.raises(tarfile.TarError):
        unpacked(archive)
    assert not (tmp_path / "escaped.txt").exists()
    assert [path.name for path in (tmp_path / "models").iterdir()] == ["nlu-bad.tar.gz"], "nothing half unpacked left"


def test_a_loaded_model_parses_without_tensorflow_which_training_still_gets(model_path):
    """TensorFlow took about 3 s of every start and prediction never uses it; Rasa's training
    helpers still import it when read."""
    script = (
        "import asyncio, sys\n"
        "from bot.nlu.model import NluModel\n"
        f"model = NluModel.load({str(model_path)!r})\n"
        "result = asyncio.run(model.parse('how do I reset my password'))\n"
        "print(result.intent, 'tensorflow' in sys.modules)\n"
        "import rasa.utils.train_utils as train_utils\n"
        "train_utils.rasa.utils.tensorflow.callback.RasaTrainingLogger\n"
        "print('tensorflow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["password_reset", "False", "True"]

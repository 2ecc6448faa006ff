"""Loading a trained model fast: what a cold start spends on the model, cut to what prediction needs.

- The archive is unpacked once, into a folder beside it (`models/nlu-<hash>/`), and read from
  there by every later start: Rasa unpacked the whole archive (86 MB) into a temporary
  folder on every start. The folder records which archive it came from (its size and
  modification time), so a model trained again under the same hash is unpacked again.
- Only the prediction graph is built, node after node (`PredictGraph`), without Rasa's
  `Agent`: that also deserialised the training graph, whose validator imports every Rasa
  component, TensorFlow's among them, and the dialogue machinery an NLU-only model never runs.
- `rasa.utils.train_utils` (training helpers) runs its body only when something reads from it
  (`defer_training_imports`): Rasa's default recipe imports it on the way to our components, and
  it imports TensorFlow, about 3 s of a start on this VM that prediction never uses.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import shutil
import sys
import tarfile
import tempfile
import threading
import types
from pathlib import Path
from typing import Any, Optional, TypeVar

COMPONENTS_DIR, METADATA_FILE = "components", "metadata.json"  # Rasa's archive layout
SOURCE_FILE = ".unpacked-from"  # the archive's size and modification time, in the folder
DEFERRED_MODULES = frozenset({"rasa.utils.train_utils"})

T = TypeVar("T")


def unpacked(archive: Path) -> Path:
    """The archive's contents in a folder beside it, unpacked now unless they already are;
    unpacked into a temporary folder instead when the models folder is read-only."""
    folder = archive.with_name(archive.name.removesuffix(".tar.gz"))
    source = _source(archive)
    if _unpacked_from(folder) == source:
        return folder
    try:
        fresh = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=archive.parent))
    except OSError:
        scratch = Path(tempfile.mkdtemp(prefix="supportbot-model-"))
        _unpack(archive, scratch, source)
        return scratch
    try:
        fresh.chmod(0o755)  # readable as the archive is (mkdtemp makes it its owner's only)
        _unpack(archive, fresh, source)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    _put_in_place(fresh, folder)
    return folder


def stale_unpacked(models_dir: Path, keep: Path) -> list[Path]:
    """Unpacked folders in `models_dir` of archives other than `keep`."""
    current = keep.name.removesuffix(".tar.gz")
    return [path for path in models_dir.glob("nlu-*") if path.is_dir() and path.name != current]


def _source(archive: Path) -> str:
    stat = archive.stat()
    return f"{archive.name} {stat.st_size} {stat.st_mtime_ns}"


def _unpacked_from(folder: Path) -> Optional[str]:
    try:
        return (folder / SOURCE_FILE).read_text()
    except OSError:
        return None


def _unpack(archive: Path, into: Path, source: str) -> None:
    with tarfile.open(archive, mode="r:gz") as tar:
        tar.extractall(into, filter="data")  # no member lands outside `into`
    (into / SOURCE_FILE).write_text(source)  # last: a folder without it is never used


def _put_in_place(fresh: Path, folder: Path) -> None:
    """Rename `fresh` to `folder`, moving a stale `folder` out of the way first. Processes
    starting together may all unpack: the first rename wins, the others' copies go."""
    stale = folder.with_name(f".stale-{folder.name}-{os.getpid()}")
    try:
        folder.rename(stale)
    except FileNotFoundError:
        stale = None
    try:
        fresh.rename(folder)
    except OSError:
        shutil.rmtree(fresh, ignore_errors=True)
    if stale is not None:
        shutil.rmtree(stale, ignore_errors=True)


class PredictGraph:
    """A trained model's prediction graph: its nodes, loaded from the unpacked folder, called
    in topological order in the calling thread with the inputs and outputs Rasa's dask runner
    would pass them (dask's scheduler spent ~0.5 ms a message on a six-node chain)."""

    def __init__(self, folder: Path) -> None:
        from rasa.engine.graph import ExecutionContext, GraphNode, GraphSchema
        from rasa.engine.storage.local_model_storage import LocalModelStorage

        metadata = json.loads((folder / METADATA_FILE).read_text())
        schema = GraphSchema.from_dict(metadata["predict_schema"])
        storage = LocalModelStorage(folder / COMPONENTS_DIR)
        context = ExecutionContext(graph_schema=schema, model_id=metadata["model_id"])
        self.nodes = {name: GraphNode.from_schema_node(name, node, storage, context)
                      for name, node in schema.nodes.items()}  # fmt: skip
        self.target: str = metadata["nlu_target"]
        self._order = _topological_order(schema, self.target)
        self._needs = {name: tuple(schema.nodes[name].needs.values()) for name in self._order}

    def run(self, inputs: dict[str, Any]) -> Any:
        """The target node's output for these inputs (placeholder name -> value)."""
        results: dict[str, Any] = {name: (name, value) for name, value in inputs.items()}
        for name in self._order:
            results[name] = self.nodes[name](*(results.get(need, need) for need in self._needs[name]))
        return results[self.target][1]

    def component(self, kind: type[T]) -> T:
        """The graph's loaded component of this class."""
        return next(node._component for node in self.nodes.values() if isinstance(node._component, kind))


def _topological_order(schema: Any, target: str) -> list[str]:
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in schema.nodes:
            return
        for need in schema.nodes[name].needs.values():
            visit(need)
        order.append(name)

    visit(target)
    return order


def defer_training_imports() -> None:
    """From now on, the modules of `DEFERRED_MODULES` run their body when first read from,
    not when imported (training reads them, and then they load as ever)."""
    if not any(isinstance(finder, _DeferringFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeferringFinder())


class _DeferringFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname not in DEFERRED_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _DeferringLoader(spec.loader)
        return spec


class _DeferringLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__[_LOADER] = self.loader
        module.__class__ = _DeferredModule


_LOADER = "__deferred_loader__"
# What the import system reads of a module it imports again (`__spec__._initializing`):
# reading these does not run the body. importlib's LazyLoader ran it on any read.
_IMPORT_READS = frozenset({"__spec__", "__name__", "__loader__", "__package__", "__file__", "__path__",
                           "__class__", "__dict__"})  # fmt: skip
_running = threading.RLock()  # the body may import what reads it again


class _DeferredModule(types.ModuleType):
    """A module whose body has not run yet: it runs on the first read of any other name."""

    def __getattribute__(self, name: str) -> Any:
        if name in _IMPORT_READS:
            return super().__getattribute__(name)
        namespace = super().__getattribute__("__dict__")
        with _running:
            if _LOADER in namespace:
                loader = namespace.pop(_LOADER)
                object.__setattr__(self, "__class__", types.ModuleType)
                namespace["__loader__"] = namespace["__spec__"].loader = loader
                loader.exec_module(self)
        return getattr(self, name)

"""The formats a model can be exported in, each with the runtime that loads it back.

A format writes a Keras model through Keras's own ``Model.export`` (``.keras`` through
``Model.save``) and loads the artifact with its own runtime, never with Keras: what is checked is
what a user deploys. The runtime is a :class:`Runner`, a callable from a NumPy batch to the
NumPy outputs.

Choices, and why:

* ``savedmodel`` is loaded with ``tf.saved_model.load`` and run through its ``serve`` endpoint;
  ``onnx`` (written by tf2onnx, which Keras calls) with onnxruntime on the CPU; ``litert``
  (Keras's converter: ``tf.lite.TFLiteConverter``, float32, no quantisation) with the
  ``ai_edge_litert`` interpreter, which replaces TensorFlow's deprecated ``tf.lite.Interpreter``.
* The optional packages (onnx, onnxruntime, tf2onnx, ai-edge-litert) are checked before any
  work starts, so a missing one costs no retraining: ConfigError naming the format and the pip
  command.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np

from evokit.errors import ConfigError

__all__ = ["FORMATS", "ExportFormat", "ExportError", "get_format", "Runner"]

EXTRA = 'pip install "evokit[export]"'
"""The command that installs every optional package of the export formats."""

Runner = Callable[[np.ndarray], np.ndarray]
"""A loaded artifact: a batch of inputs (NumPy) to the model's outputs (NumPy, float32)."""


class ExportError(RuntimeError):
    """A format's converter or runtime failed on a model, or the exported model disagrees with
    the Keras model beyond the tolerance: the artifact is not to be trusted. A failure, not bad
    input (``evokit export`` exits 1), so not an EvokitError."""


class ExportFormat:
    """One export format: how it writes a model, the runtime that loads it, what it needs.

    ``name`` is what ``format=`` and ``--format`` take; ``suffix`` ends the artifact's name
    (``best.onnx``; a SavedModel is a folder ``best.savedmodel``); ``needs`` are the
    ``(module, pip package)`` pairs that must be importable.
    """

    def __init__(self, name: str, suffix: str, write: Callable[[Any, Path], None],
                 load: Callable[[Path, np.dtype], Runner], runtime: Callable[[], str],
                 needs: tuple[tuple[str, str], ...] = ()):
        self.name, self.suffix, self.needs = name, suffix, needs
        self._write, self._load, self._runtime = write, load, runtime

    def __repr__(self) -> str:
        return f"ExportFormat({self.name!r})"

    def check_installed(self) -> None:
        """ConfigError naming the format, the missing packages and the pip command, if any
        package this format needs cannot be imported."""
        missing = []
        for module, package in self.needs:
            try:
                importlib.import_module(module)
            except ImportError:
                missing.append(package)
        if missing:
            raise ConfigError(f"format={self.name!r} needs {', '.join(missing)}, not installed here: {EXTRA}")

    def write(self, model: Any, path: Path) -> None:
        """Write ``model`` to ``path`` (replacing what is there); ExportError naming the format
        and the converter's reason when the conversion fails."""
        remove_artifact(path)
        try:
            self._write(model, path)
        except Exception as exc:  # noqa: BLE001 - a converter's failure, named for the user
            remove_artifact(path)  # what the converter left half-written
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(f"format={self.name!r} failed for {path.name}: the converter says: "
                              f"{type(exc).__name__}: {reason}") from exc

    def load(self, path: Path, dtype: Any = np.float32) -> Runner:
        """The artifact at ``path`` loaded with this format's runtime; inputs are cast to ``dtype``."""
        return self._load(path, np.dtype(dtype))

    @property
    def runtime(self) -> str:
        """The runtime that loads the artifact and its version (``onnxruntime 1.32.0``)."""
        return self._runtime()


def remove_artifact(path: Path) -> None:
    """Delete an exported model, a file or a folder (a SavedModel), if it is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def package_version(package: str) -> str:
    """The installed version of a package (``unknown`` when it is not installed as one)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --- keras ----------------------------------------------------------------------------------

def _write_keras(model: Any, path: Path) -> None:
    model.save(path)


def _load_keras(path: Path, dtype: np.dtype) -> Runner:
    import keras

    import evokit.layers  # noqa: F401 - registers evokit's own layers for deserialisation

    model = keras.models.load_model(path)
    return lambda x: np.asarray(model(x.astype(dtype, copy=False), training=False), np.float32)


# --- savedmodel -----------------------------------------------------------------------------

def _write_savedmodel(model: Any, path: Path) -> None:
    model.export(str(path), format="tf_saved_model", verbose=False)


def _load_savedmodel(path: Path, dtype: np.dtype) -> Runner:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # held by the closure: its variables die with it
    return lambda x: np.asarray(loaded.serve(tf.constant(x.astype(dtype, copy=False))), np.float32)


# --- onnx -----------------------------------------------------------------------------------

def _write_onnx(model: Any, path: Path) -> None:
    import warnings

    if not getattr(model, "_called", True):  # a model loaded from .keras: Keras exports only called ones
        model(np.zeros((1,) + tuple(model.input_shape[1:]), model.inputs[0].dtype), training=False)
    with warnings.catch_warnings():  # Keras patches tf2onnx for NumPy 2 and warns while it does
        warnings.simplefilter("ignore", FutureWarning)
        model.export(str(path), format="onnx", verbose=False)


def _load_onnx(path: Path, dtype: np.dtype) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: np.asarray(session.run(None, {name: x.astype(dtype, copy=False)})[0], np.float32)


# --- litert ---------------------------------------------------------------------------------

def _write_litert(model: Any, path: Path) -> None:
    model.export(str(path), format="litert", verbose=False)
    if _needs_select_ops(path):
        # A batch of unknown size can leave a layer's input shape unknown (UpSampling2D before a
        # convolution in a GAN generator): the converter then falls back to a Select TF op that
        # the LiteRT interpreter cannot run. One sample per call keeps every op built in.
        import tensorflow as tf

        spec = tf.TensorSpec((1,) + tuple(model.input_shape[1:]), model.inputs[0].dtype)
        model.export(str(path), format="litert", verbose=False, input_signature=[spec])


def _needs_select_ops(path: Path) -> bool:
    """True when the LiteRT interpreter refuses the file for its Select TensorFlow ops."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    inp = interpreter.get_input_details()[0]
    try:  # a Select TF op fails at its first call, not at allocation
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], np.zeros(inp["shape"], inp["dtype"]))
        interpreter.invoke()
    except RuntimeError as exc:
        if "Select TensorFlow op" in str(exc):
            return True
        raise
    return False


def _load_litert(path: Path, dtype: np.dtype) -> Runner:
    """The interpreter as a Runner; a file converted for a fixed batch (see ``_write_litert``)
    runs a batch in slices of that size (``run.fixed_batch``), the last one padded."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    fixed = None if inp["shape_signature"][0] == -1 else int(inp["shape"][0])
    shape: list[Any] = [None]

    def invoke(x: np.ndarray) -> np.ndarray:
        if shape[0] != x.shape:  # the batch size changed: resize once, not per call
            interpreter.resize_tensor_input(inp["index"], list(x.shape))
            interpreter.allocate_tensors()
            shape[0] = x.shape
        interpreter.set_tensor(inp["index"], x.astype(inp["dtype"], copy=False))
        interpreter.invoke()
        return np.array(interpreter.get_tensor(out["index"]), np.float32)

    def run(x: np.ndarray) -> np.ndarray:
        if fixed is None:
            return invoke(x)
        padded = np.concatenate([x, np.repeat(x[-1:], -len(x) % fixed, axis=0)])
        return np.concatenate([invoke(padded[i:i + fixed]) for i in range(0, len(padded), fixed)])[:len(x)]

    run.fixed_batch = fixed  # type: ignore[attr-defined]
    return run


FORMATS: dict[str, ExportFormat] = {
    "keras": ExportFormat("keras", ".keras", _write_keras, _load_keras, lambda: f"keras {package_version('keras')}"),
    "savedmodel": ExportFormat("savedmodel", ".savedmodel", _write_savedmodel, _load_savedmodel,
                               lambda: f"tensorflow {package_version('tensorflow')} (tf.saved_model.load)"),
    "onnx": ExportFormat("onnx", ".onnx", _write_onnx, _load_onnx,
                         lambda: f"onnxruntime {package_version('onnxruntime')}",
                         needs=(("onnx", "onnx"), ("tf2onnx", "tf2onnx"), ("onnxruntime", "onnxruntime"))),
    "litert": ExportFormat("litert", ".tflite", _write_litert, _load_litert,
                           lambda: f"ai_edge_litert {package_version('ai-edge-litert')}",
                           needs=(("ai_edge_litert", "ai-edge-litert"),)),
}
"""The export formats by name, in the order the docs list them."""


def get_format(name: str) -> ExportFormat:
    """The format called ``name``; ConfigError naming ``format`` and the allowed values otherwise."""
    if name not in FORMATS:
        raise ConfigError(f"format={name!r} is invalid: expected one of {', '.join(map(repr, FORMATS))}")
    return FORMATS[name]

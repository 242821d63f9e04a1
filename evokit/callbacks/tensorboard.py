"""``TensorBoard``: the per-generation figures as TensorBoard scalars (``tensorboard --logdir``).

TensorFlow is imported when the search begins, not when the callback is made, so a config that
names it costs nothing until it runs.

Choices, and why: the scalars are written with TensorFlow's own summary writer
(``tf.summary.write`` with the scalar plugin's metadata, which is what ``tf.summary.scalar``
writes), so writing them needs TensorFlow only; the ``tensorboard`` package, which TensorFlow no
longer installs, is needed only to look at them.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from evokit.callbacks.base import Callback, GenerationEnd, SearchBegin, SearchEnd
from evokit.callbacks.paths import check_path, resolve


class TensorBoard(Callback):
    """Scalars per generation in ``log_dir`` (relative: to the run directory), the step being
    the generation: ``{objective}/best`` and ``{objective}/mean`` for each objective,
    ``search/evaluations``, ``search/evaluated``, ``search/elapsed_s``, and with several
    objectives ``search/front_size`` and ``search/hypervolume``. Values that are not finite
    (no individual had a finite value) are left out."""

    def __init__(self, log_dir: str | Path = "tensorboard") -> None:
        self.log_dir = check_path("log_dir", log_dir)
        self._writer: Any = None

    def on_search_begin(self, event: SearchBegin) -> None:
        import tensorflow as tf

        folder = resolve("log_dir", Path(self.log_dir) / "events", event.run_dir).parent  # makes log_dir itself
        self._writer = tf.summary.create_file_writer(str(folder))

    def on_generation_end(self, event: GenerationEnd) -> None:
        import tensorflow as tf

        from tensorflow.core.framework.summary_pb2 import DataClass, SummaryMetadata

        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"),
                                   data_class=DataClass.DATA_CLASS_SCALAR)
        with self._writer.as_default():
            for tag, value in scalars(event).items():
                tf.summary.write(tag, tf.constant(value, dtype=tf.float32), step=event.generation,
                                 metadata=metadata)
        self._writer.flush()

    def on_search_end(self, event: SearchEnd) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_writer": None}  # a file writer is not saved with the search


def scalars(event: GenerationEnd) -> dict[str, float]:
    """The tags and values written for one generation (finite values only)."""
    values = {f"{group or 'search'}/{figure}": value for group, figure, value in event.figures()}
    return {tag: float(v) for tag, v in values.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}

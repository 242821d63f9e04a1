"""The lean training loop's process settings: Grappler off while evokit trains, then restored."""
import keras
import pytest

from evokit.runtime import trainer


def _grappler_disabled() -> bool:
    import tensorflow as tf

    return bool(tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False))


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="Grappler is TensorFlow's")
def test_graph_optimizer_is_off_while_training_and_restored_after(monkeypatch):
    monkeypatch.delenv(trainer.GRAPH_OPTIMIZER_ENV, raising=False)
    before = _grappler_disabled()
    with trainer.lean_graphs():
        assert _grappler_disabled()
    assert _grappler_disabled() == before
    with pytest.raises(RuntimeError):
        with trainer.lean_graphs():
            raise RuntimeError("a failing candidate")
    assert _grappler_disabled() == before


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="Grappler is TensorFlow's")
def test_graph_optimizer_can_be_kept(monkeypatch):
    monkeypatch.setenv(trainer.GRAPH_OPTIMIZER_ENV, "1")
    before = _grappler_disabled()
    with trainer.lean_graphs():
        assert _grappler_disabled() == before


def test_resident_memory_is_this_process_now():
    import numpy as np

    before = trainer.resident_memory_gb()
    block = np.ones(64 * 1024**2, dtype=np.uint8)  # 64 MB, touched
    assert trainer.resident_memory_gb() - before > 0.05
    del block
    assert 0.0 < before < 64

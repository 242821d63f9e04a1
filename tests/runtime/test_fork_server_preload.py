"""The fork server's preload: TensorFlow, Keras and the training modules imported once, without
the packages Keras imports only because they are installed (``held_back.HELD_BACK``); workers
forked from it train without them and can still import them."""
import sys

import pytest

import evokit as ek
from evokit.evaluation import TrainingConfig
from evokit.runtime.executors import Job, ProcessEvaluator, process
from evokit.runtime.executors.held_back import HELD_BACK, held_back

WORKER_STATE = f"""(
    sorted(n for n in {HELD_BACK!r} if n in __import__('sys').modules),
    getattr(__import__('sys').modules.get('evokit.runtime.executors.preload'), 'completed', False),
    __import__('keras.src.trainers.data_adapters.array_slicing', fromlist=['x']).pandas,
    [__import__(n).__name__ for n in ('sklearn', 'matplotlib')],
)"""  # evaluated in the worker: held back, preloaded to the end by the server, Keras without pandas, importable after all


def test_held_back_names_fail_to_import_inside_the_block_only():
    name = "evokit_never_installed_package"
    with held_back((name, "sys")):
        with pytest.raises(ImportError):
            __import__(name)
        assert sys.modules["sys"] is sys  # an imported module is left as it is
    assert name not in sys.modules
    with pytest.raises(ModuleNotFoundError):  # importable again: the normal lookup, not the block
        __import__(name)


def test_a_forked_worker_trains_without_them_and_can_import_them(small_digits):
    if process.worker_context().get_start_method() != "forkserver":
        pytest.skip("workers are spawned here (no fork server, or EVOKIT_START_METHOD=spawn)")
    encoding = ek.encodings.DeepGA(max_conv_blocks=1, max_dense=1, filters=(4,), units=(8,))
    network = encoding.decode(encoding.random(), small_digits.input_shape, small_digits.n_outputs)
    evaluator = ProcessEvaluator(workers=1)
    try:
        result = evaluator.start(small_digits, TrainingConfig(epochs=1)).train([Job(network.canonical(), seed=0)])[0]
        assert result.status == "ok", result.message
        loaded, preloaded, pandas, imported = evaluator._pool.submit(eval, WORKER_STATE).result(timeout=60)
    finally:
        evaluator.close()
    assert loaded == [] and preloaded and pandas is None
    assert imported == ["sklearn", "matplotlib"]

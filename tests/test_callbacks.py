"""Search callbacks (``evokit.callbacks``): every search calls the hooks in order with the run's
figures; a callback stops a search as a budget does; the built-in loggers, TensorBoard writer and
early stopping; a callback that raises ends the search with its checkpoint intact and resumable.

Objectives are ``ParameterCount`` (and ``FLOPs``), read off the NetSpec: nothing is trained, so
a generation costs milliseconds.
"""
import csv
import json
import logging
import random
import re

import pytest

import evokit as ek
from evokit.algorithms.aging import AgingEvolution
from evokit.algorithms.gp import GP
from evokit.algorithms.neat import NEAT
from evokit.algorithms.nsga2 import NSGA3
from evokit.algorithms.pso import PSO
from evokit.algorithms.random_search import RandomSearch
from evokit.callbacks import Callback, CSVLogger, EarlyStopping, JSONLinesLogger, TensorBoard
from evokit.errors import CallbackError, ConfigError
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.runtime.run.lock import RunLock

FAR = 10**6


def tree():
    return ek.encodings.Tree(max_depth=3, filters=(4, 8), kernel_sizes=(3,), units=(8,))


ALGORITHMS = {  # name: (encoding, algorithm, number of objectives)
    "GA": (tree, lambda: ek.algorithms.GA(population=4), 1),
    "NSGA2": (tree, lambda: ek.algorithms.NSGA2(population=4), 2),
    "NSGA3": (tree, lambda: NSGA3(population=4), 2),
    "PSO": (lambda: ek.encodings.DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16)),
            lambda: PSO(population=3), 1),
    "GP": (tree, lambda: GP(population=4), 1),
    "NEAT": (lambda: ek.encodings.NEAT(), lambda: NEAT(population=4), 1),
    "AgingEvolution": (tree, lambda: AgingEvolution(population=4, sample=2), 1),
    "RandomSearch": (tree, lambda: RandomSearch(batch=3), 1),
}


def search(data, budget, name="GA", **kw):
    encoding, algorithm, n_objectives = ALGORITHMS[name]
    objectives = [ek.fitness.ParameterCount(), ek.fitness.FLOPs()][:n_objectives]
    return ek.Search(encoding=encoding(), objectives=objectives, data=data, algorithm=algorithm(), budget=budget,
                     seed=3, progress=False, **kw)


class Recorder(Callback):
    """Records every hook call, and draws from the global generators to show that it changes nothing."""

    def __init__(self):
        self.calls = []

    def on_search_begin(self, event):
        self.calls.append(("begin", event.generation, event.resumed))

    def on_candidate_evaluated(self, event):
        random.random()
        self.calls.append(("candidate", event.generation, event.values, event.network, event.cached))

    def on_generation_end(self, event):
        self.calls.append(("generation", event.generation, event.best(), event.mean(), event.evaluated,
                           len(event.population), event.fitnesses, event.front_size))

    def on_search_end(self, event):
        self.calls.append(("end", event.generation, event.stopped_by, event.evaluated))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_search_calls_the_hooks_in_order_with_its_figures(name, small_digits):
    recorder = Recorder()
    result = search(small_digits, ek.Budget(generations=2), name, callbacks=[recorder]).run()
    calls = recorder.calls
    assert calls[0] == ("begin", 0, False) and calls[-1] == ("end", 2, "generations", result.stats["evaluated"])
    generations = [c for c in calls if c[0] == "generation"]
    assert [g[1] for g in generations] == [0, 1, 2]
    for row, (_, gen, best, mean, evaluated, size, fitnesses, front) in zip(result.history, generations):
        assert best == row["params_min"] and mean == row["params_avg"]  # params are minimised
        assert size == len(fitnesses) > 0 and (front is None) == (len(result.objective_names) == 1)
    candidates = [c for c in calls if c[0] == "candidate"]
    assert len(candidates) == result.stats["evaluated"]
    assert [sum(c[1] == g for c in candidates) for g in range(3)] == [r["evaluated"] for r in result.history]
    first_generation_end = calls.index(generations[0])
    assert all(c[1] == 0 for c in calls[1:first_generation_end])  # generation 0's candidates come before its end
    plain = search(small_digits, ek.Budget(generations=2), name).run()
    assert plain.history == [{**r, "elapsed_s": p["elapsed_s"]} for r, p in zip(result.history, plain.history)]


class StopAt(Callback):
    def __init__(self, generation):
        self.generation = generation

    def on_generation_end(self, event):
        if event.generation == self.generation:
            event.request_stop("enough", "generation 1 was enough")


def test_a_callback_stops_the_search_at_the_end_of_the_generation_and_says_why(small_digits, tmp_path):
    result = search(small_digits, ek.Budget(generations=FAR), run_dir=tmp_path / "run",
                    callbacks=[StopAt(1)]).run()
    assert result.stats["stopped_by"] == "enough" and result.stats["generations"] == 1
    assert result.stats["stop_detail"] == "generation 1 was enough"
    assert load_checkpoint(tmp_path / "run")["state"].generation == 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["stats"]["stopped_by"] == "enough"
    budget = search(small_digits, ek.Budget(generations=1), callbacks=[StopAt(1)]).run()
    assert budget.stats["stopped_by"] == "generations"  # a budget reached in the same generation wins


def test_early_stopping_stops_on_a_plateau_of_the_best_value(small_digits):
    result = search(small_digits, ek.Budget(generations=FAR),
                    callbacks=[EarlyStopping(patience=3, min_delta=10**9)]).run()  # nothing counts as better
    assert result.stats["stopped_by"] == "early_stopping" and result.stats["generations"] == 3
    assert "did not improve" in result.stats["stop_detail"] and "patience 3" in result.stats["stop_detail"]
    result = search(small_digits, ek.Budget(generations=FAR), callbacks=[EarlyStopping(patience=4)]).run()
    best = [r["params_min"] for r in result.history]
    assert result.stats["stopped_by"] == "early_stopping"
    assert min(best[-4:]) >= min(best[:-4]) and min(best[-5:]) < min(best[:-5], default=float("inf"))


def test_csv_and_json_lines_loggers_write_a_row_per_generation_and_candidate(small_digits, tmp_path):
    loggers = [CSVLogger("logs/generations.csv", candidates_path="logs/candidates.csv"),
               JSONLinesLogger("log.jsonl", candidates=True)]
    result = search(small_digits, ek.Budget(generations=2), "NSGA2", run_dir=tmp_path, callbacks=loggers).run()
    with (tmp_path / "logs" / "generations.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["generation"]) for r in rows] == [0, 1, 2]
    assert list(rows[0]) == ["generation", "evaluations", "evaluated", "elapsed_s", "params_best", "params_mean",
                             "flops_best", "flops_mean", "front_size", "hypervolume"]
    assert [float(r["params_best"]) for r in rows] == [r["params_min"] for r in result.history]
    with (tmp_path / "logs" / "candidates.csv").open() as f:
        assert len(list(csv.DictReader(f))) == result.stats["evaluated"]
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in lines if r["event"] == "generation"] == [0, 1, 2]
    assert sum(r["event"] == "candidate" for r in lines) == result.stats["evaluated"]
    assert lines[-1]["front_size"] == len(result.pareto_front)


def test_tensorboard_writes_scalars_per_generation(small_digits, tmp_path):
    import tensorflow as tf

    search(small_digits, ek.Budget(generations=2), "NSGA2", run_dir=tmp_path, callbacks=[TensorBoard("tb")]).run()
    (events,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    scalars = {}
    for event in tf.compat.v1.train.summary_iterator(str(events)):
        for value in event.summary.value:
            assert value.metadata.plugin_data.plugin_name == "scalars" or value.tag in scalars
            scalars.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    assert {"params/best", "params/mean", "flops/best", "search/evaluations", "search/front_size",
            "search/hypervolume"} <= set(scalars)
    assert [step for step, _ in scalars["params/best"]] == [0, 1, 2]
    generations = (tmp_path / "generations.csv").read_text().splitlines()
    assert len(generations) == 4


class Boom(Callback):
    def on_generation_end(self, event):
        if event.generation == 1:
            raise RuntimeError("boom at generation 1")


def test_a_raising_callback_ends_the_search_cleanly_and_the_run_resumes_to_the_same_end(small_digits, tmp_path,
                                                                                       caplog):
    whole = tmp_path / "whole"
    search(small_digits, ek.Budget(generations=3), run_dir=whole).run()
    broken = tmp_path / "broken"
    with caplog.at_level(logging.DEBUG, logger="evokit.callbacks"), pytest.raises(CallbackError) as raised:
        search(small_digits, ek.Budget(generations=3), run_dir=broken, callbacks=[CSVLogger("log.csv"), Boom()]).run()
    assert isinstance(raised.value.__cause__, RuntimeError) and raised.value.hook == "on_generation_end"
    assert "Boom.on_generation_end raised RuntimeError: boom at generation 1" in str(raised.value)
    assert "checkpoint of generation 1 is intact" in str(raised.value)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "Boom.on_generation_end" in errors[0].getMessage()
    assert any(r.levelno == logging.DEBUG and r.exc_info for r in caplog.records)  # the traceback, at DEBUG
    assert load_checkpoint(broken)["state"].generation == 1
    lock = RunLock(broken)
    lock.acquire()  # the failed run released it
    lock.release()
    result = ek.resume(broken)  # the saved search keeps the CSVLogger (evokit's own), not Boom
    assert result.stats["generations"] == 3 and result.stats["stopped_by"] == "generations"

    def final(run_dir):
        payload = load_checkpoint(run_dir)
        return [(str(ind), ind.fitness.values) for ind in payload["state"].population]

    assert final(broken) == final(whole)
    with (broken / "log.csv").open() as f:
        assert [int(r["generation"]) for r in csv.DictReader(f)] == [0, 1, 2, 3]


def test_resume_takes_callbacks_again_and_early_stopping_counts_from_the_history(small_digits, tmp_path):
    search(small_digits, ek.Budget(generations=2), run_dir=tmp_path).run()
    recorder = Recorder()
    result = ek.resume(tmp_path, budget=ek.Budget(generations=FAR),
                       callbacks=[recorder, EarlyStopping(patience=3, min_delta=10**9)])
    assert recorder.calls[0] == ("begin", 2, True)
    assert result.stats["stopped_by"] == "early_stopping" and result.stats["generations"] == 3


def test_a_seconds_budget_reports_its_overrun(small_digits):
    result = search(small_digits, ek.Budget(seconds=0.2, generations=FAR)).run()
    assert result.stats["stopped_by"] == "seconds" and result.stats["budget_overrun_s"] >= 0.0
    assert "checked between generations" in result.stats["stop_detail"]
    assert search(small_digits, ek.Budget(generations=1)).run().stats["budget_overrun_s"] is None


def test_callbacks_from_a_config_and_their_paths_stay_in_the_run_directory():
    made = ek.config.from_dict({"callbacks": [{"type": "csv_logger", "path": "logs/g.csv"},
                                              {"type": "jsonl_logger", "path": "g.jsonl", "candidates": True},
                                              {"type": "tensorboard"}, {"type": "early_stopping", "patience": 2}]})
    assert [type(c).__name__ for c in made.callbacks] == ["CSVLogger", "JSONLinesLogger", "TensorBoard",
                                                          "EarlyStopping"]
    for bad, key in [({"type": "csv_logger", "path": "/tmp/x.csv"}, "callbacks[0].path"),
                     ({"type": "csv_logger", "path": "a/../../x.csv"}, "callbacks[0].path"),
                     ({"type": "tensorboard", "log_dir": "~/tb"}, "callbacks[0].log_dir"),
                     ({"type": "jsonl_logger", "path": "checkpoint.pkl"}, "callbacks[0].path"),  # the run's own
                     ({"type": "csv_logger", "path": "samples/x.csv"}, "callbacks[0].path"),
                     ({"type": "csv_logger", "path": "x.csv", "candidates_path": "C:/x"}, "callbacks[0].candidates_path"),
                     ({"type": "early_stopping", "patience": 0}, "callbacks[0].patience"),
                     ({"type": "early_stopping", "monitor": "worst"}, "callbacks[0].monitor"),
                     ({"type": "early_stopping", "patince": 2}, "callbacks[0].patince"),
                     ({"type": "print"}, "callbacks[0].type"),
                     ({"type": "os:system"}, "callbacks[0].type")]:
        with pytest.raises(ConfigError, match="^" + re.escape(key)):
            ek.config.from_dict({"callbacks": [bad]})


def test_bad_callbacks_are_refused_naming_the_argument(small_digits):
    with pytest.raises(ConfigError, match="callbacks="):
        search(small_digits, ek.Budget(generations=1), callbacks=[print])
    with pytest.raises(CallbackError, match="EarlyStopping.on_search_begin raised ConfigError: objective='accuracy'"):
        search(small_digits, ek.Budget(generations=1), callbacks=[EarlyStopping(objective="accuracy")]).run()
    with pytest.raises(ConfigError, match="min_delta"):
        EarlyStopping(min_delta=-1)


def test_a_logger_never_writes_over_the_runs_own_files(small_digits, tmp_path):
    with pytest.raises(CallbackError, match="path='generations.csv' is invalid: it names the run directory's own"):
        search(small_digits, ek.Budget(generations=1), run_dir=tmp_path, callbacks=[CSVLogger("generations.csv")]).run()
    assert not (tmp_path / "generations.csv").exists()  # the logger made nothing there

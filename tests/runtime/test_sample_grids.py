"""A GAN run's sample grids: tiles exact to the pixel (upscaled small images, gray separators), PNGs
that read back gray or RGB at their size, bad images refused with the reason, and the run log
writing ``samples/gen_NNNN.png`` + ``index.json`` for the best candidate so far only when its
evaluation holds samples (nothing for other runs; a failure warns and the run goes on)."""
import json
import random
import warnings

import numpy as np
import pytest
from deap import tools
from matplotlib import image as mpimg

import evokit as ek
from evokit.algorithms.base import SearchState
from evokit.deap_toolbox import genotype_toolbox
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.run.checkpoint import load_checkpoint
from evokit.runtime.run.directory import RunDirectory
from evokit.runtime.run.log import RunLog
from evokit.runtime.run.samples import (
    BEST,
    INDEX,
    SAMPLES_DIR,
    SEPARATOR,
    SEPARATOR_VALUE,
    generation_path,
    grid,
    read_grids,
    read_index,
    record_generation,
    write_grid,
)


def _images(n, h, w, c):
    return (np.arange(n * h * w * c) % 251).astype(np.uint8).reshape(n, h, w, c)


# --- grid --------------------------------------------------------------------------------------------

def test_grid_tiles_exactly_with_separators_and_gray_empty_cells():
    images = _images(5, 2, 3, 1)
    out = grid(images, columns=3, scale=1)
    assert out.dtype == np.uint8 and out.shape == (2 * 2 + SEPARATOR, 3 * 3 + 2 * SEPARATOR, 1)
    for i in range(5):
        top, left = (i // 3) * (2 + SEPARATOR), (i % 3) * (3 + SEPARATOR)
        assert np.array_equal(out[top:top + 2, left:left + 3], images[i])
    assert (out[2:2 + SEPARATOR] == SEPARATOR_VALUE).all()  # the line between the rows
    assert (out[:, 3:3 + SEPARATOR] == SEPARATOR_VALUE).all()  # between the first two columns
    last = (2 + SEPARATOR, 2 * (3 + SEPARATOR))
    assert (out[last[0]:, last[1]:] == SEPARATOR_VALUE).all()  # the cell no image fills


def test_grid_is_square_ish_and_upscales_small_images_by_whole_pixels():
    digits = _images(36, 8, 8, 1)
    out = grid(digits)
    side = 6 * 32 + 5 * SEPARATOR  # 6x6 tiles of 8x8 images upscaled 4x to 32 px
    assert out.shape == (side, side, 1)
    assert np.array_equal(out[:32, :32, 0], np.kron(digits[0, ..., 0], np.ones((4, 4), np.uint8)))
    assert np.array_equal(out[32 + SEPARATOR:64 + SEPARATOR, :32], digits[6].repeat(4, 0).repeat(4, 1))
    assert grid(_images(16, 64, 64, 3)).shape == (4 * 64 + 3 * SEPARATOR, 4 * 64 + 3 * SEPARATOR, 3)  # not scaled
    assert grid(_images(10, 28, 28, 1)).shape == (3 * 56 + 2 * SEPARATOR, 4 * 56 + 3 * SEPARATOR, 1)  # 2x
    assert grid(_images(1, 5, 5, 3), scale=1).shape == (5, 5, 3)  # one image: no separator
    assert grid(_images(3, 4, 4, 1), columns=10, scale=2).shape == (8, 3 * 8 + 2 * SEPARATOR, 1)  # one row of 3


@pytest.mark.parametrize("bad, match", [
    (np.zeros((4, 8, 8, 1), np.float32), "uint8"),
    (np.zeros((4, 8, 8), np.uint8), "4 dimensions"),
    (np.zeros((4, 8, 8, 2), np.uint8), "1 \\(gray\\) or 3 \\(RGB\\) channels"),
    (np.zeros((0, 8, 8, 1), np.uint8), "at least one image"),
])
def test_bad_images_are_refused_with_the_reason(bad, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        grid(bad)
    with pytest.raises(ValueError, match=match):
        write_grid(tmp_path / "x.png", bad)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("name, value", [("columns", 0), ("scale", -1), ("scale", 1.5), ("columns", True)])
def test_bad_layouts_are_refused(name, value):
    with pytest.raises(ValueError, match=f"{name}="):
        grid(_images(4, 8, 8, 1), **{name: value})


# --- PNG files ---------------------------------------------------------------------------------------

def test_a_gray_grid_is_written_as_a_gray_png_and_reads_back(tmp_path):
    images = _images(4, 8, 8, 1)
    path = write_grid(tmp_path / "deep" / "er" / "gray.png", images)  # folders made
    back = mpimg.imread(path)
    assert back.shape == grid(images).shape[:2]  # one channel: gray, not a colour map (which would be RGBA)
    assert np.array_equal(np.round(back * 255).astype(np.uint8), grid(images)[..., 0])
    write_grid(path, images[:1])  # replaced whole
    assert mpimg.imread(path).shape == (32, 32)


def test_an_rgb_grid_reads_back_in_colour(tmp_path):
    images = _images(6, 16, 16, 3)
    back = mpimg.imread(write_grid(tmp_path / "rgb.png", images, columns=2, scale=1))
    assert back.shape == (3 * 16 + 2 * SEPARATOR, 2 * 16 + SEPARATOR, 3)
    assert np.array_equal(np.round(back * 255).astype(np.uint8), grid(images, columns=2, scale=1))


# --- per-generation grids and their index ------------------------------------------------------------

def test_generation_grids_and_their_index(tmp_path):
    assert read_grids(tmp_path) == [] and read_index(tmp_path) == []
    assert generation_path(tmp_path, 3) == tmp_path / SAMPLES_DIR / "gen_0003.png"
    first, second = _images(4, 8, 8, 1), _images(4, 8, 8, 1)[::-1].copy()
    record_generation(tmp_path, 0, first, value=20.5, objective="val_frechet", network="abc")
    record_generation(tmp_path, 1, first, value=float("nan"), objective="val_frechet", network="abc")
    record_generation(tmp_path, 2, second, value=12.25, objective="val_frechet", network="def")
    assert [g for g, _ in read_grids(tmp_path)] == [0, 1, 2]
    index = json.loads((tmp_path / SAMPLES_DIR / INDEX).read_text())
    assert index["version"] == 1
    assert [(e["generation"], e["file"], e["value"], e["network"]) for e in index["generations"]] == [
        (0, "gen_0000.png", 20.5, "abc"), (1, "gen_0001.png", None, "abc"), (2, "gen_0002.png", 12.25, "def")]
    digests = [e["digest"] for e in index["generations"]]
    assert digests[0] == digests[1] != digests[2]
    # a run resumed from the checkpoint of generation 0 writes generation 1 again: later grids go
    record_generation(tmp_path, 1, second, value=15.0, objective="val_frechet")
    assert [g for g, _ in read_grids(tmp_path)] == [0, 1]
    assert [(e["generation"], e["value"]) for e in read_index(tmp_path)] == [(0, 20.5), (1, 15.0)]
    (tmp_path / SAMPLES_DIR / INDEX).write_text("{cut sho")  # a damaged index: the grids still count
    assert [(e["generation"], e["value"]) for e in read_index(tmp_path)] == [(0, None), (1, None)]


# --- the run log's hook ------------------------------------------------------------------------------

@pytest.fixture
def logged(small_digits, tiny_encoding, tmp_path):
    """A real run log over a run directory, its population evaluated by an analytic objective
    (nothing trains), and the hall of fame to finish generations with."""
    candidates = CandidateEvaluator(tiny_encoding, [ek.fitness.ParameterCount()], small_digits)
    run_dir = RunDirectory(tmp_path)
    run_dir.start()
    log = RunLog(candidates, run_dir, ["params"], tiny_encoding, None, False)
    random.seed(0)
    population = genotype_toolbox(tiny_encoding, candidates.weights).population(n=6)
    log.evaluate(population)
    yield log, population, tools.HallOfFame(2), tmp_path
    candidates.close()


def _give_samples(log, population, make):
    """Put ``make(i)`` into ``extra["samples"]`` of the i-th candidate's evaluation in this
    generation's outcomes (analytic objectives leave nothing in the cache)."""
    for outcome in log.pending:
        outcome.evaluation.extra["samples"] = make(population.index(outcome.genotype))


def _best(population, hof):
    return next(i for i, ind in enumerate(population) if ind.fitness.values == hof[0].fitness.values)


def test_the_run_log_writes_the_best_candidates_grid_each_generation(logged):
    log, population, hof, path = logged
    _give_samples(log, population, lambda i: np.full((4, 8, 8, 1), 10 * i, np.uint8))
    pending = list(log.pending)
    log.finish_generation(SearchState(population), hof, 0.1)
    assert [g for g, _ in read_grids(path)] == [0]
    assert (mpimg.imread(generation_path(path, 0)) * 255).round()[0, 0] == 10 * _best(population, hof)
    entry = read_index(path)[0]
    assert entry["objective"] == "params" and entry["value"] == hof[0].fitness.values[0]
    assert entry["network"] == log.candidates.decode(hof[0]).hash
    log.finish_generation(SearchState(population, generation=1), hof, 0.2)  # nothing evaluated, the best not
    assert [e["generation"] for e in read_index(path)] == [0]  # cached (analytic): no grid, no warning either
    log.pending = pending  # evaluated again
    log.finish_generation(SearchState(population, generation=2), hof, 0.3)
    assert [e["generation"] for e in read_index(path)] == [0, 2]
    assert read_index(path)[0]["digest"] == read_index(path)[1]["digest"]
    assert load_checkpoint(path)["rows"][-1]["gen"] == 2


def test_the_best_is_found_in_the_cache_when_this_generation_did_not_evaluate_it(logged):
    log, population, hof, path = logged
    outcomes = {population.index(o.genotype): o for o in log.pending}
    for i, ind in enumerate(population):  # as if trained in an earlier generation: kept in the cache
        evaluation = outcomes[i].evaluation.without_weights()
        evaluation.extra["samples"] = np.full((9, 8, 8, 3), 20 + i, np.uint8)
        log.candidates.cache.put(log.candidates.evaluation_key(ind), evaluation)
    log.pending[0].evaluation.extra["samples"] = np.zeros((9, 8, 8, 3), np.uint8)  # this generation: one GAN
    log.finish_generation(SearchState(population, generation=4), hof, 0.1)
    back = (mpimg.imread(generation_path(path, 4)) * 255).round()
    assert back.shape == (3 * 32 + 2 * SEPARATOR, 3 * 32 + 2 * SEPARATOR, 3)
    assert back[0, 0, 0] == 20 + _best(population, hof)


def test_a_run_without_samples_writes_no_grid(logged):
    log, population, hof, path = logged
    log.finish_generation(SearchState(population), hof, 0.1)
    assert not (path / SAMPLES_DIR).exists() and load_checkpoint(path) is not None


def test_a_grid_that_cannot_be_written_warns_and_the_run_goes_on(logged, caplog):
    log, population, hof, path = logged
    _give_samples(log, population, lambda i: np.zeros((4, 8, 8, 1), np.float32))  # not uint8
    pending = list(log.pending)
    with pytest.warns(UserWarning, match="generated samples of generation 0 could not be written.*uint8"):
        log.finish_generation(SearchState(population), hof, 0.1)
    assert read_grids(path) == [] and load_checkpoint(path)["rows"][-1]["gen"] == 0
    with warnings.catch_warnings():  # warned once per run: later failures are logged
        warnings.simplefilter("error")
        log.pending = pending
        log.finish_generation(SearchState(population, generation=1), hof, 0.2)
    assert read_grids(path) == [] and load_checkpoint(path)["rows"][-1]["gen"] == 1
    assert "samples of generation 1 could not be written" in caplog.text


def test_a_failed_best_without_samples_writes_nothing(logged):
    log, population, hof, path = logged
    _give_samples(log, population, lambda i: np.zeros((4, 8, 8, 1), np.uint8))
    population[0].fitness.values = (0.0,)  # fewest parameters: the best, and it has no samples (as if failed)
    for outcome in log.pending:
        if outcome.genotype is population[0]:
            outcome.evaluation.extra.pop("samples", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log.finish_generation(SearchState(population), hof, 0.1)
    assert read_grids(path) == []


def test_best_png_is_not_a_generations_grid(tmp_path):
    path = write_grid(tmp_path / SAMPLES_DIR / BEST, _images(16, 8, 8, 3))
    assert mpimg.imread(path).shape == (4 * 32 + 3 * SEPARATOR, 4 * 32 + 3 * SEPARATOR, 3)
    assert read_grids(tmp_path) == [] and read_index(tmp_path) == []

"""Hypothesis fuzzing of configurations and genotypes: no uncaught exception of another kind, and
every error message names a field."""
import inspect
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.errors import EvokitError
from evokit.runtime.candidates.evaluator import CandidateEvaluator

ANY = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                st.text(max_size=5), st.lists(st.integers(-3, 70), max_size=4), st.tuples(st.integers(0, 5)),
                st.just("relu"), st.just("max"))

CONSTRUCTORS = {
    ek.encodings.DeepGA: ["min_conv_blocks", "max_conv_blocks", "min_dense", "max_dense", "filters", "kernel_sizes",
                          "pools", "pool_sizes", "activations", "units", "dropouts", "skip_probability"],
    ek.algorithms.GA: ["population", "generations", "offspring", "cxpb", "mutpb", "tournament_size", "replacement"],
    ek.algorithms.NSGA2: ["population", "generations", "cxpb", "mutpb"],
    ek.TrainingConfig: ["epochs", "batch_size", "optimizer", "learning_rate", "early_stopping"],
    ek.fitness.ValidationAccuracy: ["epochs", "batch_size", "optimizer", "learning_rate", "early_stopping"],
    ek.Budget: ["generations", "evaluations", "seconds", "target"],
    ek.fitness.DeepGAScore: ["w", "max_params", "accuracy"],
    ek.fitness.GreenAlgorithms: ["cpu_power_per_core_w", "usage", "memory_power_per_gb_w", "pue",
                                 "carbon_intensity_g_per_kwh", "cores", "memory_gb"],
    ek.fitness.CostModel: ["overhead_s", "flops_per_s"],
    ek.fitness.CO2: ["mode", "estimator", "cost_model", "pue", "tracking_mode"],
    ek.fitness.Latency: ["batch_size", "repeats"],
    ek.fitness.MaxParams: ["limit"],
    ek.fitness.MaxMemory: ["mb", "batch_size"],
    ek.runtime.ProcessEvaluator: ["workers", "max_tasks_per_child", "threads_per_worker", "timeout", "memory_limit_gb"],
    ek.netspec.Dense: ["units", "activation"],
    ek.netspec.Conv2D: ["filters", "kernel_size", "strides", "padding", "activation"],
    ek.netspec.Pool: ["pool", "size", "strides"],
    ek.netspec.Dropout: ["rate"],
}


def _names_a_field(message, fields):
    return any(re.search(rf"\b{re.escape(f)}\b", message) for f in fields)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(CONSTRUCTORS, key=lambda c: c.__name__)), st.data())
def test_constructors_accept_or_reject_naming_the_field(cls, data):
    fields = CONSTRUCTORS[cls]
    required = [n for n, p in inspect.signature(cls).parameters.items()
                if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    chosen = set(required) | set(data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True)))
    kwargs = {name: data.draw(ANY) for name in sorted(chosen)}
    try:
        cls(**kwargs)
    except EvokitError as exc:
        assert _names_a_field(str(exc), fields), (cls.__name__, kwargs, str(exc))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_search_arguments_accept_or_reject_naming_the_field(data, small_digits, tiny_encoding):
    fields = ["encoding", "objectives", "data", "algorithm", "budget", "seed", "workers", "run_dir", "final_training",
              "hall_of_fame", "constraints"]
    kwargs = {"encoding": tiny_encoding, "objectives": ek.fitness.ParameterCount(), "data": small_digits,
              "progress": False}
    for name in data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=2, unique=True)):
        kwargs[name] = data.draw(ANY)
    try:
        ek.Search(**kwargs)
    except EvokitError as exc:
        assert _names_a_field(str(exc), fields), (kwargs, str(exc))


BLOCK_VALUE = st.one_of(st.integers(-5, 40), st.floats(allow_nan=True), st.text(max_size=4), st.none(),
                        st.sampled_from(["max", "avg", "none", "relu", "tanh"]))


@st.composite
def fuzzed_genomes(draw):
    conv = [ConvBlock(*(draw(BLOCK_VALUE) for _ in range(5))) for _ in range(draw(st.integers(0, 4)))]
    dense = [DenseBlock(*(draw(BLOCK_VALUE) for _ in range(3))) for _ in range(draw(st.integers(0, 3)))]
    skips = draw(st.lists(st.one_of(st.integers(-1, 2), st.text(max_size=1)), max_size=7))
    return draw(st.one_of(st.just(DeepGAGenome(conv, dense, skips)), ANY))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(genome=fuzzed_genomes())
def test_fuzzed_genotypes_are_scored_failures_naming_the_gene(genome, small_digits, tiny_encoding):
    ce = CandidateEvaluator(tiny_encoding, ek.fitness.ParameterCount(), small_digits)
    outcome = ce.evaluate_all([genome])[0]  # never raises
    if outcome.evaluation.failed:
        assert outcome.evaluation.reason == "decode_error"
        assert re.search(r"(genotype|conv\[\d+\]\.\w+|dense\[\d+\]\.\w+|skips)=", outcome.evaluation.message), \
            outcome.evaluation.message
    else:
        assert outcome.values[0] == ce.decode(genome).params


def test_wrong_types_are_rejected_at_construction_not_later():
    import pytest

    for make, field in [(lambda: ek.fitness.DeepGAScore(accuracy=5), "accuracy"),
                        (lambda: ek.fitness.GreenAlgorithms(cores="x"), "cores"),
                        (lambda: ek.fitness.CO2(estimator="x"), "estimator"),
                        (lambda: ek.Search(encoding=ek.encodings.DeepGA(), objectives=ek.fitness.ParameterCount(),
                                           constraints=5), "constraints"),
                        (lambda: ek.Search(encoding=ek.encodings.DeepGA(), objectives=ek.fitness.ParameterCount(),
                                           run_dir=5), "run_dir"),
                        (lambda: ek.Search(encoding=ek.encodings.DeepGA(), objectives=ek.fitness.ParameterCount(),
                                           algorithm=ek.algorithms.NSGA2()), "objectives")]:
        with pytest.raises(EvokitError, match=field):
            make()

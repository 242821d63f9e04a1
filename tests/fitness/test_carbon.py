import math

import pytest

import evokit as ek
from evokit.evaluation import Evaluation
from evokit.fitness import CO2, CostModel, Energy, GreenAlgorithms, search_cost
from evokit.netspec import Conv2D, Dense, Flatten, Graph
from evokit.runtime.training.trainer import train


def _cnn(widths, n_outputs=10):
    g = Graph((8, 8, 1))
    x = g.input
    for w in widths:
        x = g.add(Conv2D(w, 3), x)
    return g.finish(g.add(Dense(n_outputs, "softmax"), g.add(Flatten(), x)))


def test_green_algorithms_formula_by_hand():
    ga = GreenAlgorithms(cpu_power_per_core_w=10.0, memory_power_per_gb_w=0.5, pue=1.5,
                         carbon_intensity_g_per_kwh=400.0)
    # one hour, 2 cores, 4 GB: (2*10 + 4*0.5) W * 1.5 = 33 W -> 0.033 kWh -> 13.2 g
    assert ga.energy_kwh(3600, cores=2, memory_gb=4) == pytest.approx(0.033)
    assert ga.co2_kg(0.033) == pytest.approx(0.0132)
    assert GreenAlgorithms(cores=1).energy_kwh(3600, cores=8, memory_gb=0) == pytest.approx(0.012)


def test_a_ten_times_larger_model_costs_more_energy_measured_and_estimated(digits):
    # Measured energy is about duration x estimated power, so the larger network must also take
    # clearly longer: two 128-filter 5x5 convolutions add seconds of arithmetic, not just parameters.
    g = Graph((8, 8, 1))
    x = g.add(Conv2D(128, 5), g.add(Conv2D(128, 5), g.input))
    small, large = _cnn([4]), g.finish(g.add(Dense(10, "softmax"), g.add(Flatten(), x)))
    assert large.params >= 10 * small.params
    probe = ek.fitness.EnergyProbe()
    cfg = ek.TrainingConfig(epochs=2)
    train(small, digits, cfg, seed=1, probes=(probe,))  # the process's first model pays one-time set-up costs
    ev_small, ev_large = (train(s, digits, cfg, seed=0, probes=(probe,)) for s in (small, large))
    measured = CO2(mode="measured")
    estimated = Energy(mode="estimated")
    assert measured(ev_large) > measured(ev_small) > 0
    assert ev_large.metrics["energy_kwh_measured"] > ev_small.metrics["energy_kwh_measured"]
    assert estimated(ev_large) > estimated(ev_small) > 0
    assert ev_large.extra["cores"] >= 1 and ev_large.extra["memory_gb"] > 0.1


def test_predicted_mode_needs_no_training_and_grows_with_flops(digits):
    co2 = CO2(mode="predicted")
    assert not co2.needs_training and co2.probes() == ()
    co2.setup(digits, ek.TrainingConfig(epochs=3))
    small, large = (Evaluation(s, status="untrained") for s in (_cnn([4]), _cnn([64, 64])))
    assert co2(large) > co2(small) > 0
    with pytest.raises(ek.errors.ConfigError, match="set up"):
        CO2(mode="predicted")(small)


def test_cost_model_fit_recovers_overhead_and_throughput():
    truth = CostModel(overhead_s=0.7, flops_per_s=2e9)
    evals = []
    for widths in ([4], [8], [16, 16], [32, 32], [64]):
        spec = _cnn(widths)
        evals.append(Evaluation(spec, wall_time=truth.seconds(spec, 1000, 200, 2)))
    fitted = CostModel.fit(evals, 1000, 200, 2)
    assert fitted.overhead_s == pytest.approx(0.7, rel=1e-6)
    assert fitted.flops_per_s == pytest.approx(2e9, rel=1e-6)
    with pytest.raises(ek.errors.ConfigError, match="too few"):
        CostModel.fit(evals[:1], 1000, 200, 2)


def test_failed_training_still_reports_its_energy():
    spec = _cnn([4])
    failed = ek.evaluation.failure(spec, "nan_loss", "x", wall_time=2.0)
    assert Energy(mode="estimated")(failed) == pytest.approx(GreenAlgorithms().energy_kwh(2.0))
    assert CO2(mode="estimated")(ek.evaluation.failure(None, "decode_error", "x")) == math.inf


def test_units_are_part_of_the_names():
    names = {o.name for o in (CO2(), Energy(), ek.fitness.Latency(), ek.fitness.FLOPs(), ek.fitness.ParameterCount())}
    assert names == {"co2_kg", "energy_kwh", "latency_ms", "flops", "params"}
    assert "kg CO2-eq" in CO2.__doc__ and "kWh" in Energy.__doc__


@pytest.mark.parametrize("kwargs, field", [({"mode": "guessed"}, "mode"), ({"tracking_mode": "gpu", "mode": "measured"},
                                                                           "tracking_mode")])
def test_bad_carbon_settings_name_the_field(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=field):
        CO2(**kwargs)


def test_bad_estimator_constants_name_the_field():
    with pytest.raises(ek.errors.ConfigError, match="pue"):
        GreenAlgorithms(pue=0.5)
    with pytest.raises(ek.errors.ConfigError, match="usage"):
        GreenAlgorithms(usage=2.0)


def test_search_cost_sums_trained_evaluations_only():
    spec = _cnn([4])
    evals = [Evaluation(spec, wall_time=10.0, metrics={"energy_kwh_measured": 1e-5, "co2_kg_measured": 4e-6}),
             Evaluation(spec, wall_time=5.0, metrics={"energy_kwh_measured": 2e-5, "co2_kg_measured": 8e-6}),
             Evaluation(spec, status="untrained")]
    cost = search_cost(evals, GreenAlgorithms())
    assert cost["train_seconds"] == 15.0
    assert cost["energy_kwh_estimated"] == pytest.approx(GreenAlgorithms().energy_kwh(15.0))
    assert cost["energy_kwh_measured"] == pytest.approx(3e-5) and cost["co2_kg_measured"] == pytest.approx(1.2e-5)


def test_measured_mode_without_codecarbon_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "codecarbon", None)  # import codecarbon -> ImportError
    with pytest.raises(ek.errors.ConfigError, match=r"evokit\[carbon\]"):
        CO2(mode="measured")
    assert CO2(mode="estimated").probes() == ()  # the other modes need no extra

"""NSGA-II on digits with three objectives: accuracy, parameters and measured CO2.

Prints the Pareto front, the search's total energy (kWh) and emissions (kg CO2-eq), and how
CodeCarbon's measured figures compare with the Green Algorithms estimate on the same candidates.
Needs the ``carbon`` extra (``pip install "evokit[carbon]"``). About 1-2 minutes on 2 CPU cores.
"""
from __future__ import annotations

import statistics
import sys

import evokit as ek
from evokit.fitness import CostModel, GreenAlgorithms
from evokit.runtime import read_candidates


def main(run_dir: str = "runs/nsga2_co2", population: int = 12, generations: int = 4) -> None:
    data = ek.datasets.load("digits", seed=0)
    search = ek.Search(encoding=ek.encodings.DeepGA(),
                       objectives=[ek.fitness.ValidationAccuracy(epochs=3), ek.fitness.ParameterCount(),
                                   ek.fitness.CO2(mode="measured")],
                       data=data, algorithm=ek.algorithms.NSGA2(population=population, generations=generations),
                       seed=0, run_dir=run_dir, overwrite=True)
    result = search.run()

    print("\nPareto front (accuracy up, parameters down, CO2 down):")
    print(f"{'val_acc':>8} {'params':>9} {'g CO2-eq':>9} {'energy Wh':>9}  network")
    for c in sorted(result.pareto_front, key=lambda c: -c.values["val_accuracy"]):
        print(f"{c.values['val_accuracy']:>8.3f} {c.params:>9,} {1000 * c.values['co2_kg']:>9.4f} "
              f"{1000 * c.evaluation.metrics['energy_kwh_measured']:>9.4f}  {c.description}")

    cost = result.stats["search_cost"]
    print(f"\nsearch cost: {result.stats['trained']} trainings, {cost['train_seconds']:.0f} s of training")
    print(f"  measured (CodeCarbon): {cost['energy_kwh_measured']:.3e} kWh, {cost['co2_kg_measured']:.3e} kg CO2-eq")
    print(f"  estimated (Green Algorithms, defaults): {cost['energy_kwh_estimated']:.3e} kWh, "
          f"{cost['co2_kg_estimated']:.3e} kg CO2-eq")

    records = [r for r in read_candidates(run_dir) if not r["cached"] and r["status"] == "ok"]
    estimator = GreenAlgorithms()
    ratios = [r["energy_kwh_measured"] / estimator.energy_kwh(r["wall_time"], r["cores"], r["memory_gb"])
              for r in records]
    implied = statistics.median(r["co2_kg_measured"] / r["energy_kwh_measured"] * 1000 for r in records)
    print(f"\nmeasured / estimated energy over the same {len(records)} candidates: median {statistics.median(ratios):.2f}"
          f" (min {min(ratios):.2f}, max {max(ratios):.2f}); CodeCarbon's carbon intensity here: {implied:.0f} g/kWh "
          f"(Green Algorithms default {estimator.carbon_intensity_g_per_kwh:.0f})")

    trained = [ek.Evaluation(ek.NetSpec.from_dict(r["netspec"]), wall_time=r["wall_time"]) for r in records]
    try:
        fitted = CostModel.fit(trained, len(data.x_train), len(data.x_val), 3)
        errors = [abs(fitted.seconds(e.spec, len(data.x_train), len(data.x_val), 3) - e.wall_time) / e.wall_time
                  for e in trained]
        print(f"cost model fitted to these candidates: overhead {fitted.overhead_s:.2f} s, "
              f"{fitted.flops_per_s / 1e9:.1f} GFLOP/s; median relative error of predicted time "
              f"{statistics.median(errors):.0%}")
    except ek.errors.ConfigError as exc:
        print(f"cost model: {exc}")


if __name__ == "__main__":
    main(*sys.argv[1:2])

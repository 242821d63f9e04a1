"""An evokit search vs scikit-learn's MLPRegressor and RidgeCV on ``diabetes``, at equal CPU time.

Per seed (the seed also draws the train/validation/test split, the same for all three):

* **evokit**: a GA over DeepGA's dense blocks (1-3 hidden layers of 8-64 units, relu/elu/tanh,
  dropout 0 or 0.1) maximising ``ValidationR2``, each candidate trained ``--epochs`` epochs
  (Adam, learning rate 0.05, early stopping after 5 epochs, ``--loss``) on the training split and
  scored on the validation split; the best network is retrained up to 3x the epochs (early
  stopping 10) and tested. Serial, in this process. Its CPU time (``time.process_time`` of this
  process, TensorFlow's threads included, plus ``RUSAGE_CHILDREN``; TensorFlow imported before
  the clock starts) is the budget of the others.
* **MLPRegressor**: a random search over MLPRegressor settings (hidden layers, L2 ``alpha``,
  initial learning rate; Adam, up to 500 iterations), each fitted on the training split with the
  targets standardised (``TransformedTargetRegressor``, as a practitioner would) and scored on the
  validation split, until it has used as much CPU time as the evokit search did; the best by
  validation R² is tested.
* **RidgeCV**: fitted on the training and validation splits together (it picks its own alpha by
  leave-one-out over them), then tested: it needs a fraction of a second, so it gets no more.

Test R² (scikit-learn's ``r2_score``; evokit's task computes the same) side by side, one row per
seed and the mean. Run: ``python benchmarks/regression_vs_sklearn.py [--seeds 0 1 2]
[--population 12] [--generations 8] [--epochs 20] [--loss mse] [--quick]``; ``--quick`` is a
smoke test (one seed, a tiny search), not a measurement.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import time
import warnings
from typing import Any

import numpy as np

import evokit as ek


def cpu_seconds() -> float:
    """CPU time used so far by this process (all its threads) and its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def evokit_search(data: Any, seed: int, population: int, generations: int, epochs: int, loss: str) -> dict[str, Any]:
    """The GA over dense networks: test R², parameters, CPU and wall seconds, networks trained."""
    encoding = ek.encodings.DeepGA(min_conv_blocks=0, max_conv_blocks=1, min_dense=1, max_dense=3,
                                   units=(8, 16, 32, 64), activations=("relu", "elu", "tanh"), dropouts=(0.0, 0.1))
    objective = ek.fitness.ValidationR2(epochs=epochs, learning_rate=0.05, early_stopping=5, loss=loss)
    final = ek.TrainingConfig(epochs=3 * epochs, learning_rate=0.05, early_stopping=10, loss=loss)
    search = ek.Search(encoding=encoding, objectives=objective, data=data, seed=seed, final_training=final,
                       algorithm=ek.algorithms.GA(population=population, generations=generations), progress=False)
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = search.run()
    return {"test_r2": result.test_scores.get("test_r2", float("nan")), "params": result.best.params,
            "cpu": cpu_seconds() - cpu, "wall": time.perf_counter() - wall, "trained": result.stats["trained"],
            "network": result.best.description}


def mlp_search(data: Any, seed: int, budget: float) -> dict[str, Any]:
    """Random MLPRegressor settings, fitted one after another until ``budget`` CPU seconds are spent
    (at least one); the best by validation R² is tested."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.metrics import r2_score
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    layers = [(16,), (32,), (64,), (32, 16), (64, 32), (64, 64, 32)]
    start, best, fitted = cpu_seconds(), None, 0
    while fitted == 0 or cpu_seconds() - start < budget:
        model = TransformedTargetRegressor(
            regressor=MLPRegressor(hidden_layer_sizes=layers[rng.integers(len(layers))],
                                   alpha=float(10 ** rng.uniform(-5, -1)),
                                   learning_rate_init=float(rng.choice([1e-3, 3e-3, 1e-2])), max_iter=500,
                                   random_state=int(rng.integers(2**31))),
            transformer=StandardScaler())
        model.fit(data.x_train, data.y_train)
        fitted += 1
        val = r2_score(data.y_val, model.predict(data.x_val))
        if best is None or val > best[0]:
            best = (val, model)
    model = best[1]
    return {"test_r2": r2_score(data.y_test, model.predict(data.x_test)), "cpu": cpu_seconds() - start,
            "fitted": fitted, "layers": model.regressor_.hidden_layer_sizes}


def ridge(data: Any) -> dict[str, Any]:
    """RidgeCV over a log grid of alphas, on the training and validation splits together."""
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import r2_score

    start = cpu_seconds()
    model = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(np.concatenate([data.x_train, data.x_val]),
                                                       np.concatenate([data.y_train, data.y_val]))
    return {"test_r2": r2_score(data.y_test, model.predict(data.x_test)), "cpu": cpu_seconds() - start,
            "alpha": float(model.alpha_)}


def one_seed(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    import keras  # noqa: F401 - imported (with TensorFlow) before the evokit search's clock starts

    data = ek.datasets.load("diabetes", seed=seed)
    ours = evokit_search(data, seed, args.population, args.generations, args.epochs, args.loss)
    return {"seed": seed, "evokit": ours, "mlp": mlp_search(data, seed, ours["cpu"]), "ridge": ridge(data)}


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of the seeds' test R² and CPU seconds, with the mean over seeds."""
    lines = ["| seed | evokit test R² | evokit params | evokit CPU s (wall s) | networks trained | "
             "MLPRegressor test R² | MLP CPU s | MLPs fitted | RidgeCV test R² |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        e, m = r["evokit"], r["mlp"]
        lines.append(f"| {r['seed']} | {e['test_r2']:.3f} | {e['params']:,} | {e['cpu']:.0f} ({e['wall']:.0f}) | "
                     f"{e['trained']} | {m['test_r2']:.3f} | {m['cpu']:.0f} | {m['fitted']} | "
                     f"{r['ridge']['test_r2']:.3f} |")
    mean = {k: statistics.fmean(r[k]["test_r2"] for r in rows) for k in ("evokit", "mlp", "ridge")}
    lines.append(f"| mean | {mean['evokit']:.3f} | | | | {mean['mlp']:.3f} | | | {mean['ridge']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--population", type=int, default=12)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--loss", choices=("mse", "mae", "huber"), default="mse")
    parser.add_argument("--quick", action="store_true", help="a smoke test: one seed, a tiny search")
    args = parser.parse_args(argv)
    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # an MLP stopped at max_iter is still scored
    if args.quick:
        args.seeds, args.population, args.generations, args.epochs = args.seeds[:1], 3, 1, 3
    rows = []
    for seed in args.seeds:
        rows.append(one_seed(seed, args))
        e = rows[-1]["evokit"]
        print(f"seed {seed}: evokit {e['network']} ({e['params']:,} params), MLP {rows[-1]['mlp']['layers']}, "
              f"RidgeCV alpha {rows[-1]['ridge']['alpha']:.3g}", flush=True)
    print(f"\ndiabetes, {args.population} x {args.generations + 1} generations, {args.epochs} epochs per candidate, "
          f"loss {args.loss}{' (--quick: a smoke test, not a measurement)' if args.quick else ''}\n")
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()

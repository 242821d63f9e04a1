"""The ``evokit`` command.

Exit codes: 0 success, 2 bad input (the message names the field), 1 the run failed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

EXAMPLES = """examples:
  evokit run                              DeepGA on digits with the default budget (a few minutes)
  evokit run --generations 3 --population 6 --run-dir runs/quick
  evokit run --dataset breast_cancer --workers 2 --seed 1
  evokit resume runs/quick                continue after a crash, a kill or Ctrl-C
  evokit resume runs/quick --generations 20   continue for longer

Ctrl-C stops after the current generation (results and checkpoint written); a second Ctrl-C
stops at once. Exit codes: 0 finished, 1 failed or interrupted, 2 bad input.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evokit", description="Neuroevolution on DEAP and Keras: search for "
                                     "small, accurate neural networks.", epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a search (default: DeepGA on digits)", epilog=EXAMPLES,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--dataset", default="digits", choices=("digits", "breast_cancer", "wine", "iris", "mnist1d"),
                     help="embedded dataset (default: digits)")
    run.add_argument("--population", type=int, default=12, help="population size (default: 12)")
    run.add_argument("--generations", type=int, default=10, help="generations (default: 10)")
    run.add_argument("--epochs", type=int, default=4, help="training epochs per candidate (default: 4)")
    run.add_argument("--final-epochs", type=int, default=40,
                     help="epochs to retrain the best network before testing, with early stopping; 0 to skip "
                          "(default: 40)")
    run.add_argument("--size-weight", type=float, default=0.05,
                     help="weight w of the size term in DeepGA's fitness (default: 0.05)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    run.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    run.add_argument("--run-dir", default=None, help="run directory (default: runs/run-<date>-<time>)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    resume = sub.add_parser("resume", help="continue a run from its last checkpoint", epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    resume.add_argument("run_dir", help="the run directory")
    resume.add_argument("--generations", type=int, default=None, help="new total number of generations")
    resume.add_argument("--workers", type=int, default=None, help="worker processes")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _run(args: argparse.Namespace) -> int:
    import evokit as ek

    run_dir = Path(args.run_dir or f"runs/run-{time.strftime('%Y%m%d-%H%M%S')}")
    data = ek.datasets.load(args.dataset, seed=args.seed)
    search = ek.presets.deepga(data, population=args.population, generations=args.generations, epochs=args.epochs,
                               final_epochs=args.final_epochs, size_weight=args.size_weight, seed=args.seed,
                               workers=args.workers, run_dir=run_dir, progress=not args.quiet)
    print(f"evokit run: DeepGA on {data.name} ({len(data.x_train)} training samples), GA population "
          f"{args.population}, {args.generations} generations, seed {args.seed}", flush=True)
    return _report(search.run(), run_dir, args.final_epochs)


def _resume(args: argparse.Namespace) -> int:
    import evokit as ek

    budget = None if args.generations is None else ek.Budget(generations=args.generations)
    print(f"evokit resume: {args.run_dir}", flush=True)
    result = ek.resume(args.run_dir, budget=budget, workers=args.workers, progress=not args.quiet)
    return _report(result, Path(args.run_dir), None)


def _report(result: Any, run_dir: Path, final_epochs: int | None) -> int:
    print("\nbest candidates (validation accuracy after the search's short training):")
    print(f"{'rank':>4}  {'fitness':>8}  {'val_acc':>7}  {'params':>9}  network")
    for i, c in enumerate(result.hall_of_fame, 1):
        print(f"{i:>4}  {c.values[result.objective_names[0]]:>8.4f}  "
              f"{c.evaluation.metrics.get('val_accuracy', float('nan')):>7.4f}  {c.params or 0:>9,}  {c.description}")
    s = result.stats
    if "test_accuracy" in result.test_scores:
        how = f"retrained up to {final_epochs} epochs" if final_epochs else "best model"
        print(f"\ntest accuracy: {result.test_scores['test_accuracy']:.3f} (best model, {result.best.params:,} "
              f"parameters, {how})")
    print(f"evaluations: {s['trained']} trained, {s['cache_hits']} cache hits, "
          f"{sum(s['failures'].values())} failed; search time {s['wall_time_s']:.0f} s")
    cost = s["search_cost"]
    print(f"search cost: {cost['energy_kwh_estimated']:.2e} kWh, {cost['co2_kg_estimated']:.2e} kg CO2-eq "
          f"(estimated with Green Algorithms from {cost['train_seconds']:.0f} s of training)")
    print(f"run directory: {run_dir}")
    if s["stopped_by"] == "interrupted":
        print(f"interrupted: continue with  evokit resume {run_dir}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evokit`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    from evokit.errors import EvokitError

    try:
        if args.command == "run":
            return _run(args)
        if args.command == "resume":
            return _resume(args)
    except EvokitError as exc:
        print(f"evokit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evokit: stopped; the last checkpoint is kept: evokit resume <run dir>", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - report, don't dump a trace on the user
        print(f"evokit: the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())

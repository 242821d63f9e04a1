"""Kill -9 a running search at random moments, resume it, and compare with an uninterrupted run.

Runs the small search of ``tests/_resumable_run.py`` (digits subset, GA population 4, 5
generations, seed 7) once without interruption, then ``--trials`` times with up to ``--kills``
SIGKILLs each at random moments (uniform in [--min, --max] seconds after each start, which
includes TensorFlow's start-up), each followed by a resume. Reports kills made, resumes whose
final population and hall of fame equal the uninterrupted run's, and networks trained again
after a resume (the persistent cache should make that 0).

Run: ``python benchmarks/kill_resume.py [--trials 5 --kills 3]``.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evokit.runtime.run.checkpoint import load_checkpoint

TESTS = Path(__file__).resolve().parent.parent / "tests"


def start(run_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS.parent), str(TESTS)]))
    return subprocess.Popen([sys.executable, str(TESTS / "_resumable_run.py"), str(run_dir)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def final_state(run_dir: Path) -> tuple:
    payload = load_checkpoint(run_dir)
    return (payload["state"].generation, sorted((repr(i), i.fitness.values) for i in payload["state"].population),
            [(repr(i), i.fitness.values) for i in payload["hof"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--min", type=float, default=1.0)
    parser.add_argument("--max", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        reference_dir = Path(tmp) / "reference"
        t0 = time.perf_counter()
        assert start(reference_dir).wait() == 0
        uninterrupted_s = time.perf_counter() - t0
        reference = final_state(reference_dir)
        kills = matched = repeated = before_checkpoint = 0
        for trial in range(args.trials):
            run_dir = Path(tmp) / f"trial{trial}"
            for _ in range(args.kills):
                proc = start(run_dir)
                time.sleep(rng.uniform(args.min, args.max))
                if proc.poll() is None:
                    before_checkpoint += not (run_dir / "checkpoint.pkl").exists()
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                proc.wait()
            assert start(run_dir).wait() == 0
            matched += final_state(run_dir) == reference
            hashes = (run_dir / "trainings.log").read_text().split()
            repeated += len(hashes) - len(set(hashes))
    print(f"uninterrupted run: {uninterrupted_s:.1f} s (including a new process and TensorFlow's import)")
    print(f"trials: {args.trials}; kills made: {kills} ({before_checkpoint} before the first checkpoint)")
    print(f"resumed runs whose final population and hall of fame equal the uninterrupted run's: "
          f"{matched}/{args.trials}")
    print(f"networks trained again after a resume: {repeated}")


if __name__ == "__main__":
    main()

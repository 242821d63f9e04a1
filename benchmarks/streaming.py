"""Streaming: training from disk (DiskArray) vs from memory, and memory that does not grow with
the data.

(a) **Throughput**, side by side in one run: one compiled model (a small CNN) trained epoch
after epoch on the same uint8 images, alternating (each first as often) between a float32
array in memory and a streaming DiskArray (uint8 on disk, scaled to float32 on read, the next
batch read while one trains), at several image sizes: the median epoch time of each and their ratio, and the time to
draw an epoch's shuffled batches without training. The file was just written, so it is in the
page cache: this measures evokit's reading overhead, not the disk (a cold disk adds its own read
time, hidden behind training while a batch's read takes less than its step).

(b) **Peak memory**: a small search (a ProcessEvaluator with 2 workers, ``--candidates`` dense
networks, 1 epoch, batch 512: little compute per sample, so the run is mostly reading) over a
streaming dataset of ``--big-gb`` on disk and over one of ``--small-gb``, each in a fresh
process; the peak resident memory (VmHWM) of that process and of each of its worker processes,
polled from ``/proc`` while they run. Target: the big dataset's peaks within 10% of the small
one's.

The data are random uint8 images generated into a temporary folder with ``DiskArrayWriter`` (a
chunk at a time) and deleted afterwards.

Run: ``python benchmarks/streaming.py [--sizes 8x8x1 32x32x3 64x64x1] [--n 6000]
[--big-gb 2.0] [--small-gb 0.2] [--candidates 4] [--skip-memory] [--skip-throughput]``
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

import evokit as ek  # noqa: E402
from evokit.diskarray import DiskArray, DiskArrayWriter  # noqa: E402
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock  # noqa: E402
from evokit.runtime.candidates.evaluator import CandidateEvaluator  # noqa: E402
from evokit.runtime.executors import ProcessEvaluator  # noqa: E402

CLASSES = 10
SCALE = 1 / 255


def write_images(path: Path, n: int, shape: tuple[int, ...], seed: int) -> DiskArray:
    """``n`` random uint8 images of ``shape``, written 16 MB at a time, read back scaled to [0, 1]."""
    rng = np.random.default_rng(seed)
    chunk = max(1, 2**24 // int(np.prod(shape)))
    with DiskArrayWriter(path, shape, "uint8", scale=SCALE) as writer:
        for i in range(0, n, chunk):
            writer.append(rng.integers(0, 256, size=(min(chunk, n - i), *shape), dtype=np.uint8))
    return DiskArray(path)


def streaming_dataset(folder: Path, n_train: int, shape: tuple[int, ...], seed: int = 0) -> ek.datasets.Dataset:
    """A classification Dataset of random images on disk: ``n_train`` training, a tenth as many
    validation and test samples (at least 100 each)."""
    n_other = max(100, n_train // 10)
    rng = np.random.default_rng(seed + 1)
    xs = [write_images(folder / f"x_{s}.npy", n, shape, seed + k) for k, (s, n) in
          enumerate((("train", n_train), ("val", n_other), ("test", n_other)))]
    ys = [np.arange(len(x)) % CLASSES for x in xs]
    for y in ys:
        rng.shuffle(y)
    return ek.datasets.Dataset("random images", "classification", xs[0], ys[0], xs[1], ys[1], xs[2], ys[2])


def in_memory(data: ek.datasets.Dataset) -> ek.datasets.Dataset:
    return dataclasses.replace(data, **{f"x_{s}": np.asarray(getattr(data, f"x_{s}")) for s in ("train", "val", "test")})


def genomes(k: int, conv: bool = True) -> list[DeepGAGenome]:
    """``k`` small networks: a conv block (4, 6, ... filters) and a dense layer of 16; or, with
    ``conv=False``, dense layers of 8, 10, ... units on the flattened image (little compute per sample)."""
    if not conv:
        return [DeepGAGenome([], [DenseBlock(8 + 2 * i, "relu", 0.0)], []) for i in range(k)]
    return [DeepGAGenome([ConvBlock(4 + 2 * i, 3, "max", 2, "relu")], [DenseBlock(16, "relu", 0.0)], [])
            for i in range(k)]


def throughput(sizes: list[str], n: int, repeats: int, folder: Path) -> None:
    """Steady-state epochs of one compiled model, alternating in-memory and streaming data."""
    import keras

    from evokit.builder import build
    from evokit.runtime.training.compiling import compile_model
    from evokit.runtime.training.loop import train_batches

    print(f"(a) one epoch of {n} samples, batch 32, a 1-conv-block CNN (4 filters, dense 16), one compiled model; "
          f"median of {repeats}, in-memory and streaming alternating (each first as often), after a warm-up epoch of each")
    print(f"{'image':>9} {'MB (float32)':>12} {'in memory s':>12} {'streaming s':>12} {'ratio':>6} "
          f"{'read mem s':>10} {'read disk s':>11}")
    config = ek.TrainingConfig(epochs=1, batch_size=32)
    for size in sizes:
        shape = tuple(int(v) for v in size.split("x"))
        streaming = streaming_dataset(folder / size, n, shape)
        memory = in_memory(streaming)
        spec = CandidateEvaluator(ek.encodings.DeepGA(max_conv_blocks=1, max_dense=1), ek.fitness.ParameterCount(),
                                  memory).decode(genomes(1)[0])
        model = build(spec, seed=0)
        compile_model(model, config, ek.tasks.get("classification"))
        times: dict[str, list[float]] = {"memory": [], "streaming": []}
        for repeat in range(repeats + 1):
            pair = (("memory", memory), ("streaming", streaming))
            for name, data in (pair if repeat % 2 else pair[::-1]):  # each goes first as often
                began = time.perf_counter()
                train_batches(model, data, config, seed=repeat)
                if repeat:  # the first round traces the train function
                    times[name].append(time.perf_counter() - began)
        median = {k: float(np.median(v)) for k, v in times.items()}
        reads = {name: float(np.median([read_epoch(data.x_train) for _ in range(repeats)])) for name, data in
                 (("memory", memory), ("streaming", streaming))}
        print(f"{size:>9} {memory.x_train.nbytes / 2**20:12.1f} {median['memory']:12.3f} {median['streaming']:12.3f} "
              f"{median['streaming'] / median['memory']:6.2f} {reads['memory']:10.3f} {reads['streaming']:11.3f}",
              flush=True)
        del memory, model
        keras.backend.clear_session()
        shutil.rmtree(folder / size)


def read_epoch(x: object, batch_size: int = 32) -> float:
    """Seconds to draw one epoch of shuffled batches from ``x`` without training (the reading alone)."""
    from evokit.diskarray import read_batches
    from evokit.runtime.training.loop import epoch_batches

    batches = epoch_batches(np.random.default_rng(0).permutation(len(x)), batch_size)
    began = time.perf_counter()
    for _ in read_batches(x, [b for b, _, _ in batches]):
        pass
    return time.perf_counter() - began


def _hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakWatcher:
    """Polls the peak resident memory (VmHWM) of every child process of this one."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for child in self.me.children(recursive=True):
                kb = _hwm_kb(child.pid)
                if kb is not None:
                    self.peaks[child.pid] = max(kb, self.peaks.get(child.pid, 0))

    def stop(self) -> dict[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def search_memory(gb: float, shape: tuple[int, ...], candidates: int, folder: Path) -> dict[str, float]:
    n_train = int(gb * 1e9 / np.prod(shape) / 1.2)  # train + a tenth each for validation and test
    began = time.perf_counter()
    data = streaming_dataset(folder, n_train, shape)
    disk = sum(getattr(data, f"x_{s}").path.stat().st_size for s in ("train", "val", "test")) / 1e9
    written = time.perf_counter() - began
    objective = ek.fitness.ValidationAccuracy(epochs=1, batch_size=512)
    watcher = PeakWatcher()
    evaluator = ProcessEvaluator(workers=2)
    ce = CandidateEvaluator(ek.encodings.DeepGA(max_conv_blocks=1, max_dense=1), objective, data, evaluator=evaluator,
                            keep_weights=False)
    began = time.perf_counter()
    try:
        outcomes = ce.evaluate_all(genomes(candidates, conv=False))
    finally:
        ce.close()
    elapsed = time.perf_counter() - began
    peaks = watcher.stop()
    workers = sorted((kb / 1024 for pid, kb in peaks.items()), reverse=True)
    parent = (_hwm_kb(os.getpid()) or 0) / 1024
    shutil.rmtree(folder)
    return {"gb": disk, "n_train": n_train, "written_s": written, "search_s": elapsed, "parent_mb": parent,
            "workers_mb": workers, "ok": sum(o.evaluation.status == "ok" for o in outcomes),
            "children_max_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["8x8x1", "32x32x3", "64x64x1"])
    parser.add_argument("--n", type=int, default=6000, help="training samples for the throughput runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big-gb", type=float, default=2.0)
    parser.add_argument("--small-gb", type=float, default=0.2)
    parser.add_argument("--image", default="64x64x1", help="image shape of the memory runs")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-run", type=float, help=argparse.SUPPRESS)  # one (b) search, in this process
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_run is not None:
        shape = tuple(int(v) for v in args.image.split("x"))
        print(json.dumps(search_memory(args.memory_run, shape, args.candidates, Path(args.folder))))
        return
    folder = Path(tempfile.mkdtemp(prefix="evokit-streaming-"))
    try:
        if not args.skip_throughput:
            throughput(args.sizes, args.n, args.repeats, folder / "throughput")
        if not args.skip_memory:
            shape = tuple(int(v) for v in args.image.split("x"))
            print(f"\n(b) peak resident memory (VmHWM), ProcessEvaluator(2), {args.candidates} dense "
                  f"networks, 1 epoch, batch 512, {args.image} uint8 images")
            print(f"{'on disk GB':>10} {'train samples':>13} {'search s':>9} {'parent MB':>10} {'workers MB':>22}")
            rows = []
            for gb in (args.small_gb, args.big_gb):  # each in a fresh process: its peak is its own
                row = json.loads(subprocess.run(
                    [sys.executable, __file__, "--memory-run", str(gb), "--image", args.image, "--candidates",
                     str(args.candidates), "--folder", str(folder / f"memory-{gb}")],
                    check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
                rows.append(row)
                print(f"{row['gb']:10.2f} {row['n_train']:13d} {row['search_s']:9.1f} {row['parent_mb']:10.0f} "
                      f"{', '.join(f'{w:.0f}' for w in row['workers_mb']):>22}  ({row['ok']} ok; data written in "
                      f"{row['written_s']:.0f} s)", flush=True)
            small, big = rows
            worst = max(big["workers_mb"]) / max(small["workers_mb"])
            print(f"largest worker peak, big / small: {worst:.3f}; parent peak, big / small: "
                  f"{big['parent_mb'] / small['parent_mb']:.3f} (target: within 1.10)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

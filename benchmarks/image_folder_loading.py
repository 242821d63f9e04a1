"""Loading an image folder in memory vs streamed to disk: wall time and peak resident memory.

Writes ``--per-class`` random colour PNGs of ``--side`` pixels into three class folders of a
temporary directory, then loads them with ``evokit.datasets.from_image_folder`` at each
``--sizes`` once in memory and once with ``stream=`` (uint8 files on disk), each in a fresh
process (peak RSS is a process's high-water mark), and prints one row per size. The temporary
directory is deleted afterwards.

    python benchmarks/image_folder_loading.py --per-class 1000 --side 128 --sizes 128 64
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LOAD = """
import json, resource, sys, time
from evokit import datasets
folder, size, stream = sys.argv[1], int(sys.argv[2]), sys.argv[3] or False
start = time.perf_counter()
data = datasets.from_image_folder(folder, size=size, stream=stream)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "train": len(data.x_train), "streaming": data.streaming}))
"""


def write_folder(root: Path, per_class: int, side: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k in range(3):
        (root / f"class{k}").mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(root / f"class{k}" / f"{i:04d}.png")


def load(folder: Path, size: int, stream: Path | None) -> dict:
    out = subprocess.run([sys.executable, "-c", LOAD, str(folder), str(size), str(stream or "")],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--side", type=int, default=128)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 64])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        write_folder(photos, args.per_class, args.side)
        print(f"{3 * args.per_class} PNGs of {args.side}x{args.side}x3 in 3 classes")
        print("| size | in memory | streamed | peak RSS in memory | peak RSS streamed |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for size in args.sizes:
            memory = load(photos, size, None)
            streamed = load(photos, size, Path(tmp) / f"stream{size}")
            print(f"| {size} | {memory['seconds']:.1f} s | {streamed['seconds']:.1f} s | "
                  f"{memory['peak_mb']:,.0f} MB | {streamed['peak_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()

"""``samples/``: what the best generator of a GAN run draws, one PNG grid per generation, for the
report to show how the samples change as the search goes on.

A GAN candidate's training leaves ``Evaluation.extra["samples"]`` (:data:`EXTRA_KEY`): ``uint8``
images ``(n, height, width, channels)``, channels 1 or 3, generated from the same fixed latent
batch for every candidate. After each generation the run log takes the best candidate so far (the
hall of fame's first) and, when its evaluation holds samples, calls :func:`record_generation`,
which writes

* ``samples/gen_NNNN.png`` (:func:`generation_path`): the samples tiled by :func:`grid`, and
* ``samples/index.json`` (:data:`INDEX`): ``{"version": 1, "generations": [entry, ...]}``, one
  entry per grid, sorted by generation::

      {"generation": 3, "file": "gen_0003.png", "objective": "val_frechet", "value": 12.4,
       "network": "<NetSpec hash of the generator pair, or null>", "digest": "<16 hex digits>"}

  ``value`` is the best candidate's first objective (null when not finite); ``digest`` a
  SHA-256 prefix of the sample bytes, equal when the best generator did not change.

``samples/best.png`` (:data:`BEST`) is the final model's grid, written by the search when it ends
(with :func:`write_grid`). Runs of other tasks have no samples and get no ``samples/`` folder.

A generation written again (a resumed run does the generations after its checkpoint again)
replaces its file and its entry; the entries and grids of later generations, left by the run
before it stopped, are dropped, as the resumed run writes them anew.

Choices, and why:

* **PNG, not arrays**: the report reads only files and embeds images; a grid is a few KB.
* **Tiles of at least** :data:`MIN_SIDE` **pixels**: small images (8x8 digits) are upscaled by
  nearest neighbour (whole pixels repeated), so nothing is smoothed away; a
  :data:`SEPARATOR`-pixel gray line (:data:`SEPARATOR_VALUE`) parts the tiles, visible on black
  and on white backgrounds.
* **Grayscale stays gray**: one-channel grids are written as 8-bit gray PNGs (Pillow, which
  matplotlib depends on), never through a colour map.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from evokit.runtime.run.files import write_atomically
from evokit.runtime.training.generated import SAMPLES_KEY

__all__ = ["EXTRA_KEY", "SAMPLES_DIR", "INDEX", "BEST", "grid", "png_bytes", "write_grid", "generation_path",
           "record_generation", "read_grids", "read_index"]

EXTRA_KEY = SAMPLES_KEY
"""The key of ``Evaluation.extra`` a GAN candidate's samples are kept under (set by the trainer)."""
SAMPLES_DIR = "samples"
"""The folder of the run directory the grids are written to."""
INDEX = "index.json"
"""The index of the per-generation grids, in :data:`SAMPLES_DIR`."""
BEST = "best.png"
"""The final model's grid, in :data:`SAMPLES_DIR` (written when the search ends)."""
MIN_SIDE = 32
"""The fewest pixels the longer side of a tile is upscaled to (by a whole factor)."""
SEPARATOR = 2
"""Pixels between two tiles."""
SEPARATOR_VALUE = 128
"""The gray of the separator lines (and of the empty cells of the last row)."""
_GENERATION = re.compile(r"gen_(\d+)\.png")


def check_images(images: Any) -> np.ndarray:
    """``images`` as an array ``(n, height, width, channels)`` of ``uint8``, channels 1 or 3, n at
    least 1; ValueError saying what is wrong otherwise."""
    array = np.asarray(images)
    if array.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (0..255), got dtype {array.dtype}: map them to 0..255 and convert "
                         "with .astype(np.uint8) first")
    if array.ndim != 4:
        raise ValueError(f"images must have 4 dimensions (n, height, width, channels), got shape {array.shape}")
    if array.shape[-1] not in (1, 3):
        raise ValueError(f"images must have 1 (gray) or 3 (RGB) channels, got shape {array.shape}")
    if 0 in array.shape[:3]:
        raise ValueError(f"images must hold at least one image of at least 1x1 pixels, got shape {array.shape}")
    return array


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} is invalid: expected a whole number of at least 1, or None")
    return int(value)


def grid(images: np.ndarray, columns: int | None = None, scale: int | None = None) -> np.ndarray:
    """The ``uint8`` images ``(n, h, w, c)`` tiled into one ``uint8`` image ``(H, W, c)``.

    ``columns``: tiles per row (None: ``ceil(sqrt(n))``, a square-ish grid); ``scale``: the whole
    factor each image is upscaled by, nearest neighbour (None: the least that makes the longer
    side :data:`MIN_SIDE` pixels or more; 1 for images that large already). Tiles are parted by
    :data:`SEPARATOR` pixels of :data:`SEPARATOR_VALUE`, with no outer border, so
    ``H = rows * h * scale + (rows - 1) * SEPARATOR``; cells the images do not fill stay
    separator gray. ValueError for images that are not ``uint8``, 4-D, with 1 or 3 channels.
    """
    array = check_images(images)
    n, h, w, c = array.shape
    columns = math.ceil(math.sqrt(n)) if columns is None else _positive("columns", columns)
    scale = max(1, -(-MIN_SIDE // max(h, w))) if scale is None else _positive("scale", scale)
    columns = min(columns, n)
    rows = -(-n // columns)
    if scale > 1:
        array = array.repeat(scale, axis=1).repeat(scale, axis=2)
    th, tw = h * scale, w * scale
    out = np.full((rows * th + (rows - 1) * SEPARATOR, columns * tw + (columns - 1) * SEPARATOR, c),
                  SEPARATOR_VALUE, dtype=np.uint8)
    for i in range(n):
        top, left = (i // columns) * (th + SEPARATOR), (i % columns) * (tw + SEPARATOR)
        out[top:top + th, left:left + tw] = array[i]
    return out


def png_bytes(image: np.ndarray) -> bytes:
    """A ``uint8`` image ``(H, W, 1 | 3)`` (or ``(H, W)``) as PNG bytes: 8-bit gray or RGB."""
    from PIL import Image

    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3)):
        raise ValueError(f"a PNG is written from a uint8 image (H, W), (H, W, 1) or (H, W, 3), got dtype "
                         f"{array.dtype} and shape {array.shape}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")  # uint8: mode "L" (2-D) or "RGB"
    return buffer.getvalue()


def write_grid(path: str | os.PathLike, images: np.ndarray, columns: int | None = None,
               scale: int | None = None) -> Path:
    """Write the :func:`grid` of ``images`` as a PNG at ``path`` (its folder made if missing;
    replaced whole, atomically, if it exists) and return the path."""
    target = Path(path)
    data = png_bytes(grid(images, columns, scale))
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, data)
    return target


def generation_path(run_dir: str | os.PathLike, generation: int) -> Path:
    """Where the grid of ``generation`` goes: ``<run_dir>/samples/gen_0003.png``."""
    return Path(run_dir) / SAMPLES_DIR / f"gen_{int(generation):04d}.png"


def digest(images: np.ndarray) -> str:
    """A short fingerprint of the sample images (shape and bytes)."""
    array = np.ascontiguousarray(images)
    return hashlib.sha256(repr(array.shape).encode() + array.tobytes()).hexdigest()[:16]


def read_index(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The entries of ``samples/index.json`` whose grid exists, sorted by generation; when the
    index is missing or cannot be read, one entry per ``gen_NNNN.png`` (generation and file
    only, value None). ``[]`` for a run without grids."""
    folder = Path(run_dir) / SAMPLES_DIR
    try:
        data = json.loads((folder / INDEX).read_text())
        entries = [e for e in data["generations"] if isinstance(e, dict) and isinstance(e.get("generation"), int)
                   and isinstance(e.get("file"), str) and _GENERATION.fullmatch(e["file"])]
    except (OSError, ValueError, KeyError, TypeError):
        return [{"generation": g, "file": p.name, "value": None} for g, p in read_grids(run_dir)]
    entries = [e for e in entries if (folder / e["file"]).is_file()]
    return sorted(entries, key=lambda e: e["generation"])


def read_grids(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """The per-generation grids of a run, ``(generation, path)`` sorted by generation (``[]``
    for a run without any)."""
    folder = Path(run_dir) / SAMPLES_DIR
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _GENERATION.fullmatch(p.name)) and p.is_file()]
    return sorted(found)


def record_generation(run_dir: str | os.PathLike, generation: int, images: np.ndarray, value: float | None = None,
                      objective: str | None = None, network: str | None = None) -> Path:
    """Write the grid of the best candidate's ``images`` for ``generation`` and its entry in
    ``samples/index.json`` (``value`` its first ``objective``, ``network`` its NetSpec hash).
    An earlier grid and entry of this generation are replaced, those of later generations
    removed (left by a run that stopped and was resumed from an earlier checkpoint)."""
    generation = int(generation)
    path = write_grid(generation_path(run_dir, generation), images)
    folder = path.parent
    for later, file in read_grids(run_dir):
        if later > generation:
            file.unlink(missing_ok=True)
    entries = [e for e in read_index(run_dir) if e["generation"] < generation]
    number = float(value) if value is not None else math.nan
    entries.append({"generation": generation, "file": path.name, "objective": objective,
                    "value": number if math.isfinite(number) else None, "network": network,
                    "digest": digest(check_images(images))})
    write_atomically(folder / INDEX, json.dumps({"version": 1, "generations": entries}, indent=1).encode())
    return path

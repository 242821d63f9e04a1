"""Arrays of samples that stay on disk: a dataset larger than memory, read batch by batch.

A :class:`DiskArray` is a read-only array of samples in a plain ``.npy`` file (any NumPy reads
it: ``np.load(path, mmap_mode="r")``), with a small JSON sidecar (``<file>.npy.json``) that the
writer fills once: a content digest and the values' minimum, maximum, mean, standard deviation
and finiteness. A :class:`~evokit.datasets.Dataset` holding DiskArrays is *streaming*: training
reads each batch's rows when it needs them (:class:`Prefetcher`: the next batch is read while
this one trains), and checks and fingerprints read the sidecar, never the data.

Choices, and why:

* **Ordinary reads, not ``np.memmap``.** Pages of a mapped file count in a process's resident
  memory while they stay mapped; pages read with ``os.preadv`` live in the kernel's page cache,
  which the kernel gives back under pressure and which is shared by every process reading the
  same file. Each worker process then holds one batch, whatever the data's size.
* **Pickles as a path.** A DiskArray pickles to its path and metadata (no data): worker
  processes and Dask workers open the same file (on other machines: the same path on a shared
  filesystem).
* **uint8 on disk, float32 in memory.** ``scale``/``shift`` turn stored values into
  ``float32(x) * float32(scale) + float32(shift)`` on read, so images take a quarter of the disk
  and the page cache.

This module imports neither TensorFlow nor Keras.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import math
import os
import secrets
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from evokit.errors import ConfigError, DataError, invalid, invalid_data

__all__ = ["DiskArray", "DiskArrayWriter", "write_disk_array", "Prefetcher", "read_batches", "SIDECAR_SUFFIX",
           "check_identity"]

SIDECAR_SUFFIX = ".json"
"""The sidecar of ``x.npy`` is ``x.npy.json``."""
CHUNK_ELEMENTS = 2**21
"""Values handled at once when a whole file is written, scanned or predicted on (bounds the
memory those take: ~16 MB of float64 statistics scratch)."""
_PLACEHOLDER_COUNT = 10**15
"""The sample count the header is first written with: the final header is never longer."""
_FORMAT = "evokit.diskarray/1"


def sidecar_path(path: str | Path) -> Path:
    """Where the metadata of the DiskArray at ``path`` is kept."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


class _Summary:
    """The running digest and statistics of the values written (or scanned) so far."""

    def __init__(self, dtype: np.dtype, sample_shape: tuple[int, ...]):
        self.hash = hashlib.sha256(f"{dtype.str}|{sample_shape}|".encode())
        self.count = self.values = 0
        self.mean = self.m2 = 0.0
        self.min, self.max = math.inf, -math.inf
        self.finite = True

    def add(self, rows: np.ndarray) -> None:
        """Take in ``rows`` (contiguous, at most ~CHUNK_ELEMENTS values)."""
        self.hash.update(memoryview(rows).cast("B"))
        self.count += len(rows)
        if not rows.size:
            return
        if rows.dtype.kind == "f" and not np.isfinite(rows).all():
            self.finite = False
            return
        values = rows.astype(np.float64).ravel()
        n, mean = values.size, float(values.mean())
        m2 = float(np.square(values - mean).sum())
        total = self.values + n  # Chan et al.'s pairwise update: no cancellation for large means
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.values * n / total
        self.values = total
        self.min, self.max = min(self.min, float(values.min())), max(self.max, float(values.max()))

    def meta(self) -> dict[str, Any]:
        self.hash.update(f"|{self.count}".encode())
        empty = self.values == 0
        return {"digest": self.hash.hexdigest(), "finite": self.finite,
                "min": None if empty or not self.finite else self.min,
                "max": None if empty or not self.finite else self.max,
                "mean": None if empty or not self.finite else self.mean,
                "std": None if empty or not self.finite else math.sqrt(self.m2 / self.values)}


_RELOAD = "load it again"
_TEMPORARY = ("stream=True writes to a temporary folder, which a reboot or a clean-up of /tmp may delete: use "
              "stream=\"folder\" for runs you will resume or export")


def _file_identity(stat: os.stat_result) -> dict[str, int]:
    """What tells one version of a file from another: its size, modification time and inode."""
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


def _missing(path: Path) -> DataError:
    return invalid_data("path", str(path), f"expected the file this streaming dataset reads its samples from "
                        f"(it is gone): {_RELOAD} ({_TEMPORARY})")


def _rewritten(path: Path) -> DataError:
    return invalid_data("path", str(path), f"the file was rewritten since this dataset was made: {_RELOAD} (a "
                        "streaming dataset reads its samples from the file it was made with)")


def check_identity(path: Path, meta: dict[str, Any], stat: os.stat_result | None = None) -> None:
    """DataError naming ``path`` unless the file there is the one ``meta`` was made from (its
    size, modification time and inode, when ``meta`` records them)."""
    if stat is None:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise _missing(path) from None
        except OSError as exc:
            raise invalid_data("path", str(path), f"expected a readable file ({exc})") from None
    expected = meta.get("file")
    if expected is not None and _file_identity(stat) != expected:
        raise _rewritten(path)


def _read_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """The shape, dtype and data offset of the ``.npy`` file at ``path``; DataError naming it."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = reader(f)
            offset = f.tell()
    except FileNotFoundError:
        raise invalid_data("path", str(path), "expected an existing .npy file (not found)") from None
    except (OSError, ValueError) as exc:
        raise invalid_data("path", str(path), f"expected a .npy file ({exc})") from None
    if fortran or dtype.kind not in "biuf" or dtype.hasobject or len(shape) < 1:
        raise invalid_data("path", str(path), f"expected a C-ordered numeric .npy array of samples (found "
                           f"shape {shape}, dtype {dtype}{', Fortran order' if fortran else ''})")
    size = os.path.getsize(path)
    if size != offset + math.prod(shape) * dtype.itemsize:
        raise invalid_data("path", str(path), f"expected {offset + math.prod(shape) * dtype.itemsize} bytes for "
                           f"shape {shape} and dtype {dtype}, found {size}: a truncated or unfinished file")
    return tuple(shape), dtype, offset


def _check_affine(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise invalid(field, value, "expected a finite number or None", DataError)
    return float(value)


class DiskArray:
    """A read-only array of samples in a ``.npy`` file, read with ordinary file reads.

    ``DiskArray(path)`` opens a file written by :class:`DiskArrayWriter` (or any C-ordered
    numeric ``.npy``: without a sidecar, the file is read once, in chunks, for its digest and
    statistics). ``scale``/``shift`` (None: the sidecar's) make reads return
    ``float32(x) * scale + shift``.

    Indexing reads from the file and returns NumPy arrays: ``a[i]`` one sample, ``a[i:j]`` one
    contiguous read, ``a[[5, 2, 9]]`` each row (in file order, returned in the order asked),
    ``a[rows, ...]`` rows then the rest. ``np.asarray(a)`` reads everything. ``min()``, ``max()``,
    ``mean()``, ``std()`` and ``finite`` describe the values as returned, from the sidecar
    (nothing is read; None for an empty or non-finite array).
    """

    def __init__(self, path: str | Path, *, scale: float | None = None, shift: float | None = None):
        path = Path(path).absolute()
        shape, stored, offset = _read_header(path)
        actual = _file_identity(os.stat(path))
        meta = self._sidecar(path, shape, stored)
        if meta is None:
            meta = _scan(path, shape, stored, offset)
        elif meta.get("file") not in (None, actual) and _scan(path, shape, stored, offset)["digest"] != meta["digest"]:
            raise invalid_data("path", str(path), f"expected the file its sidecar {sidecar_path(path).name} describes: "
                               "the file was rewritten after it was written; write both again")
        meta.update(offset=offset, shape=list(shape), dtype=stored.str, file=actual)
        self._setup(path, meta, scale if scale is not None else meta.get("scale"),
                    shift if shift is not None else meta.get("shift"))

    def _setup(self, path: Path, meta: dict[str, Any], scale: Any, shift: Any) -> None:
        self.path = path
        self._meta = meta
        self.scale, self.shift = _check_affine("scale", scale), _check_affine("shift", shift)
        self.stored_dtype = np.dtype(meta["dtype"])
        self.shape = tuple(meta["shape"])
        self._offset = int(meta["offset"])
        self._row_bytes = math.prod(self.shape[1:]) * self.stored_dtype.itemsize
        self._file: Any = None
        self._pid = -1
        self._lock, self._seek_lock = threading.Lock(), threading.Lock()

    @staticmethod
    def _sidecar(path: Path, shape: tuple[int, ...], dtype: np.dtype) -> dict[str, Any] | None:
        side = sidecar_path(path)
        if not side.exists():
            return None
        try:
            meta = json.loads(side.read_text())
        except (OSError, ValueError) as exc:
            raise invalid_data("path", str(side), f"expected the JSON sidecar DiskArrayWriter writes ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT or meta.get("count") != shape[0] \
                or meta.get("dtype") != dtype.str or tuple(meta.get("sample_shape", ())) != shape[1:]:
            raise invalid_data("path", str(side), f"expected a sidecar describing {path.name} ({shape}, {dtype}): "
                               "the file was replaced after it was written; write both again")
        return meta

    # --- what it is ------------------------------------------------------------------------

    @property
    def affine(self) -> bool:
        """Whether reads are scaled (and so returned as float32)."""
        return self.scale is not None or self.shift is not None

    @property
    def dtype(self) -> np.dtype:
        """The dtype reads return: float32 with ``scale``/``shift``, else the stored one."""
        return np.dtype(np.float32) if self.affine else self.stored_dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes of the whole array as returned (what ``np.asarray`` would take)."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def _returned(self, value: float | None) -> float | None:
        if value is None or not self.affine:
            return value
        return float(np.float32(value) * np.float32(self.scale if self.scale is not None else 1.0)
                     + np.float32(self.shift or 0.0))

    @property
    def finite(self) -> bool:
        """Whether every value read is finite (from the sidecar)."""
        low, high = self._returned(self._meta["min"]), self._returned(self._meta["max"])
        return bool(self._meta["finite"]) and (low is None or (math.isfinite(low) and math.isfinite(high)))

    def _ends(self) -> tuple[float, float] | None:
        """The smallest and largest value read (ints for an integer dtype), or None."""
        ends = (self._returned(self._meta["min"]), self._returned(self._meta["max"]))
        if ends[0] is None:
            return None
        kind = int if self.dtype.kind in "biu" else float
        return kind(min(ends)), kind(max(ends))

    def min(self) -> float | None:
        """The smallest value read (None when empty or not finite)."""
        ends = self._ends()
        return None if ends is None else ends[0]

    def max(self) -> float | None:
        """The largest value read (None when empty or not finite)."""
        ends = self._ends()
        return None if ends is None else ends[1]

    def mean(self) -> float | None:
        """The mean of all values read (float64 arithmetic; None when empty or not finite)."""
        return None if self._meta["mean"] is None else (
            self._meta["mean"] * (self.scale if self.scale is not None else 1.0) + (self.shift or 0.0))

    def std(self) -> float | None:
        """The standard deviation of all values read (None when empty or not finite)."""
        return None if self._meta["std"] is None else self._meta["std"] * abs(
            self.scale if self.scale is not None else 1.0)

    @property
    def digest(self) -> str:
        """A fingerprint of the values as returned (the content digest computed when the file
        was written, with ``scale``/``shift``): equal digests, equal arrays."""
        return hashlib.sha256(f"{self._meta['digest']}|{self.dtype.str}|{self.scale!r}|{self.shift!r}".encode()
                              ).hexdigest()

    def __repr__(self) -> str:
        affine = f", scale={self.scale}, shift={self.shift}" if self.affine else ""
        return f"DiskArray({str(self.path)!r}, shape={self.shape}, dtype={self.dtype}{affine})"

    def check_file(self) -> None:
        """DataError naming the path unless the file is still the one this array was made from
        (same size, modification time and inode): not deleted, not rewritten. Nothing is read."""
        check_identity(self.path, self._meta)

    def __reduce__(self) -> tuple:
        """Pickled as its path and metadata: no data travels, and nothing is read to unpickle
        (the file's size, modification time and inode are checked: DataError if it is gone or
        was rewritten since)."""
        return _restore, (str(self.path), self._meta, self.scale, self.shift)

    # --- reading ---------------------------------------------------------------------------

    def _handle(self) -> Any:
        with self._lock:  # the prefetch thread may ask first
            if self._file is None or self._pid != os.getpid():  # a forked child opens its own
                try:
                    handle = open(self.path, "rb", buffering=0)
                except FileNotFoundError:
                    raise _missing(self.path) from None
                except OSError as exc:
                    raise invalid_data("path", str(self.path), f"expected a readable file in this process ({exc}): "
                                       "processes on other machines need it at the same path") from None
                try:
                    check_identity(self.path, self._meta, os.fstat(handle.fileno()))
                except DataError:
                    handle.close()
                    raise
                self._file, self._pid = handle, os.getpid()
            return self._file

    def _read_into(self, buffer: memoryview, first_row: int) -> None:
        """Fill ``buffer`` with the bytes of the rows from ``first_row`` on."""
        handle, offset, done = self._handle(), self._offset + first_row * self._row_bytes, 0
        while done < len(buffer):
            if hasattr(os, "preadv"):  # positional: safe while the prefetch thread reads too
                got = os.preadv(handle.fileno(), [buffer[done:]], offset + done)
            else:  # pragma: no cover - Windows
                with self._seek_lock:
                    handle.seek(offset + done)
                    got = handle.readinto(buffer[done:])
            if not got:
                raise invalid_data("path", str(self.path), "expected as many bytes as its header says: "
                                   "the file shrank while being read")
            done += got

    def _rows(self, index: np.ndarray) -> np.ndarray:
        """Stored rows at ``index`` (whole numbers in range), in that order."""
        unique, inverse = np.unique(index, return_inverse=True)
        out = np.empty((len(unique), *self.shape[1:]), self.stored_dtype)
        if out.size:
            raw, size = memoryview(out).cast("B"), self._row_bytes
            breaks = (np.flatnonzero(np.diff(unique) != 1) + 1).tolist()
            for a, b in zip([0, *breaks], [*breaks, len(unique)]):  # adjacent rows are one read
                self._read_into(raw[a * size:b * size], int(unique[a]))
        if len(unique) == len(index) and (len(index) < 2 or bool(np.all(np.diff(index) > 0))):
            return out
        return out[inverse.reshape(-1)]

    def _finish(self, stored: np.ndarray) -> np.ndarray:
        if not self.affine:
            return stored
        out = stored.astype(np.float32)
        if self.scale is not None:
            out *= np.float32(self.scale)
        if self.shift is not None:
            out += np.float32(self.shift)
        return out

    def _index(self, key: Any) -> np.ndarray:
        n = len(self)
        index = np.asarray(key)
        if index.dtype == bool:
            if index.shape != (n,):
                raise IndexError(f"a boolean index of shape {index.shape} does not fit {n} samples")
            return np.flatnonzero(index)
        if index.dtype.kind not in "iu" or index.ndim != 1:
            raise IndexError(f"DiskArray index {key!r}: expected an int, a slice, or a 1-D array of ints or bools")
        index = index.astype(np.int64)
        if index.size and (index.min() < -n or index.max() >= n):
            raise IndexError(f"index out of range for {n} samples")
        return np.where(index < 0, index + n, index)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):
            if not key:
                return np.asarray(self)
            rows = self[key[0]]
            return rows[key[1:]] if isinstance(key[0], (int, np.integer)) else rows[(slice(None), *key[1:])]
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            i = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(f"index {key} is out of range for {len(self)} samples")
            return self[i:i + 1][0]
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return self[np.arange(start, stop, step)]
            out = np.empty((max(0, stop - start), *self.shape[1:]), self.stored_dtype)
            if out.size:
                self._read_into(memoryview(out).cast("B"), start)
            return self._finish(out)
        return self._finish(self._rows(self._index(key)))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every sample, read in one go (for small splits, and code that needs them all)."""
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)

    def chunks(self, rows: int | None = None) -> list[slice]:
        """Slices covering every sample, ``rows`` at a time (None: ~CHUNK_ELEMENTS values each)."""
        rows = rows or max(1, CHUNK_ELEMENTS // max(1, math.prod(self.shape[1:])))
        return [slice(i, min(i + rows, len(self))) for i in range(0, len(self), rows)]


def _restore(path: str, meta: dict[str, Any], scale: float | None, shift: float | None) -> DiskArray:
    check_identity(Path(path), meta)
    array = DiskArray.__new__(DiskArray)
    array._setup(Path(path), meta, scale, shift)
    return array


def _scan(path: Path, shape: tuple[int, ...], dtype: np.dtype, offset: int) -> dict[str, Any]:
    """The sidecar's metadata of a ``.npy`` without one, from one chunked pass over its data."""
    summary = _Summary(dtype, shape[1:])
    array = DiskArray.__new__(DiskArray)
    array._setup(path, {"dtype": dtype.str, "shape": list(shape), "offset": offset}, None, None)
    for part in array.chunks():
        summary.add(array[part])
    return summary.meta()


class DiskArrayWriter:
    """Writes samples to a DiskArray file batch by batch; ``close()`` returns the DiskArray.

    ``DiskArrayWriter(path, sample_shape, dtype)``: each ``append(batch)`` takes an array of any
    number of samples of ``sample_shape``, converted to ``dtype`` (whole numbers must fit it;
    floats are not cast to integers). The digest and statistics are computed as the data
    goes by; ``close()`` writes the header's final count and the sidecar. ``scale``/``shift``
    are stored in the sidecar as the default of every ``DiskArray(path)``. As a context manager
    it closes on success and deletes the unfinished file on an exception.

    The samples go to a hidden temporary file in the same folder, which ``close()`` renames to
    ``path`` (then the sidecar): a file already there is replaced, never overwritten in place, so
    a DiskArray already reading it keeps reading its own data (or, opening it anew, is told it
    was rewritten), and ``path`` is never a half-written file.
    """

    def __init__(self, path: str | Path, sample_shape: Sequence[int], dtype: Any, *,
                 scale: float | None = None, shift: float | None = None):
        self.path = Path(path).absolute()
        try:
            self.sample_shape = tuple(int(s) for s in sample_shape)
        except (TypeError, ValueError):
            raise invalid("sample_shape", sample_shape, "expected a tuple of positive ints") from None
        if any(s < 1 for s in self.sample_shape):
            raise invalid("sample_shape", sample_shape, "expected a tuple of positive ints")
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            raise invalid("dtype", dtype, "expected a numeric NumPy dtype (e.g. 'uint8', 'float32')") from None
        if self.dtype.kind not in "biuf":
            raise invalid("dtype", dtype, "expected a numeric NumPy dtype (e.g. 'uint8', 'float32')")
        self.dtype = self.dtype.newbyteorder("=")
        self.scale, self.shift = _check_affine("scale", scale), _check_affine("shift", shift)
        self._summary = _Summary(self.dtype, self.sample_shape)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = self.path.with_name(f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        self._file: Any = open(os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb")
        self._header_bytes = len(self._header(_PLACEHOLDER_COUNT))
        self._file.write(b"\0" * self._header_bytes)

    @property
    def count(self) -> int:
        """Samples written so far."""
        return self._summary.count

    def _header(self, count: int, length: int = 0) -> bytes:
        """The ``.npy`` header for ``count`` samples, space-padded to ``length`` bytes if longer."""
        import io

        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(buffer, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                                                      "fortran_order": False, "shape": (count, *self.sample_shape)})
        header = buffer.getvalue()
        if len(header) < length:  # same fields, more padding (the reader takes any header length)
            body = header[10:-1] + b" " * (length - len(header)) + b"\n"
            header = header[:8] + len(body).to_bytes(2, "little") + body
        return header

    def append(self, batch: Any) -> None:
        """Write the samples of ``batch`` (shape ``(n, *sample_shape)``; n may be 0)."""
        if self._file is None:
            raise ConfigError(f"DiskArrayWriter({str(self.path)!r}) is closed: expected append before close")
        array = np.asarray(batch)
        if array.shape[1:] != self.sample_shape:
            raise invalid_data("batch", f"array of shape {array.shape}",
                               f"expected samples of shape {self.sample_shape}: (n, {', '.join(map(str, self.sample_shape))})")
        array = self._converted(array)
        rows = max(1, CHUNK_ELEMENTS // max(1, math.prod(self.sample_shape)))
        for i in range(0, len(array), rows):
            part = np.ascontiguousarray(array[i:i + rows])
            self._summary.add(part)
            self._file.write(memoryview(part).cast("B") if part.size else b"")

    def _converted(self, array: np.ndarray) -> np.ndarray:
        if array.dtype.kind not in "biuf":
            raise invalid_data("batch", f"array of dtype {array.dtype}", "expected real numbers")
        if self.dtype.kind in "iu" and array.dtype.kind == "f":
            raise invalid_data("batch", f"array of dtype {array.dtype}", f"expected whole numbers for dtype "
                               f"{self.dtype} (round and cast them first)")
        if self.dtype.kind in "iu" and array.size and array.dtype.kind in "iu":
            info = np.iinfo(self.dtype)
            if array.min() < info.min or array.max() > info.max:
                raise invalid_data("batch", f"values from {array.min()} to {array.max()}",
                                   f"expected values that fit {self.dtype} ({info.min}..{info.max})")
        return array.astype(self.dtype, copy=False)

    def close(self) -> DiskArray:
        """Finish the file (the header's final count, the sidecar) and open it as a DiskArray."""
        if self._file is not None:
            self._file.seek(0)
            self._file.write(self._header(self.count, self._header_bytes))
            self._file.close()
            self._file = None
            meta = {"format": _FORMAT, "count": self.count, "sample_shape": list(self.sample_shape),
                    "dtype": self.dtype.str, "scale": self.scale, "shift": self.shift, **self._summary.meta(),
                    "file": _file_identity(os.stat(self._partial))}  # a rename keeps all three
            side = sidecar_path(self.path)
            partial = self._partial.with_name(self._partial.name + SIDECAR_SUFFIX)
            partial.write_text(json.dumps(meta, indent=1))
            os.replace(self._partial, self.path)
            os.replace(partial, side)
        return DiskArray(self.path)

    def abort(self) -> None:
        """Stop writing and delete the unfinished file (a file already at ``path`` stays)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self._partial.unlink(missing_ok=True)

    def __enter__(self) -> DiskArrayWriter:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_disk_array(path: str | Path, data: Any, *, dtype: Any = None, scale: float | None = None,
                     shift: float | None = None) -> DiskArray:
    """Write ``data`` (an array of samples, or an iterable of such batches) to ``path`` as a
    DiskArray and return it; ``dtype`` None keeps the (first batch's) dtype."""
    chunks: Iterable[Any] = [data] if hasattr(data, "shape") else data
    writer = None
    try:
        for chunk in chunks:
            chunk = np.asarray(chunk)
            if writer is None:
                if chunk.ndim < 1:
                    raise invalid_data("data", f"array of shape {chunk.shape}", "expected an array of samples")
                writer = DiskArrayWriter(path, chunk.shape[1:], dtype if dtype is not None else chunk.dtype,
                                         scale=scale, shift=shift)
            writer.append(chunk)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is None:
        raise invalid_data("data", "no batches", "expected an array of samples or an iterable of batches")
    return writer.close()


class Prefetcher:
    """``array[key]`` for each key of ``keys`` in turn, read ``depth`` keys ahead in a background
    thread: while batch k trains, batch k+1 is being read (file reads release the GIL).

    Iterate it once; a consumer that stops early (``close()`` on the iterator, or leaving a
    ``with contextlib.closing(...)`` block) cancels the reads not yet begun.
    """

    def __init__(self, array: Any, keys: Sequence[Any], depth: int = 1):
        self.array, self.keys, self.depth = array, list(keys), max(1, int(depth))

    def __iter__(self) -> Iterator[np.ndarray]:
        pool = cf.ThreadPoolExecutor(1, thread_name_prefix="evokit-prefetch")
        try:
            pending = [pool.submit(self.array.__getitem__, key) for key in self.keys[:self.depth]]
            for k in range(len(self.keys)):
                batch = pending.pop(0).result()
                if k + self.depth < len(self.keys):
                    pending.append(pool.submit(self.array.__getitem__, self.keys[k + self.depth]))
                yield batch
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def read_batches(x: Any, keys: Sequence[Any]) -> Iterator[np.ndarray]:
    """``x[key]`` for each key: through a :class:`Prefetcher` for a DiskArray, directly (as
    the in-memory path always did) for an array in memory."""
    if isinstance(x, DiskArray):
        return iter(Prefetcher(x, keys))
    return (x[key] for key in keys)

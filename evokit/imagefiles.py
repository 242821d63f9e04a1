"""Images and masks from two folders: the user's own segmentation data, read with Pillow.

``images/a.png`` pairs with ``masks/a.png`` (or ``a.bmp``, ``a.tif``...): files pair by their
name without the suffix (the stem). :func:`read_image_folders` gives ``(x, masks)`` for
:func:`evokit.datasets.from_arrays`; :func:`evokit.datasets.from_image_folders` makes the
Dataset, and a config's ``[data]`` table with ``kind = "mask_folder"`` reads the same way
(:mod:`evokit.datafiles`).

Bad input raises :class:`evokit.errors.ConfigError` (an argument: a folder that is not there, a
bad ``size``) or :class:`evokit.errors.DataError` (the files), naming ``images``, ``masks`` or
``size`` and, for one file, its path.

Choices, and why
----------------
* **Formats.** PNG, JPEG, BMP and TIFF (:data:`SUFFIXES`, any case); other files and sub-folders
  are ignored (a ``Thumbs.db`` or ``README`` beside the images is no error), hidden files too.
  Two files of one stem in a folder (``a.png`` and ``a.jpg``) are refused: which to pair?
* **Strict pairing.** Every image needs a mask and every mask an image; the error lists the
  first few names without a partner, rather than silently dropping samples.
* **Images** are read as grey (``grayscale=True``: one channel, colour converted to luma) or RGB
  (three channels, a grey image repeated), alpha dropped; values as stored (0..255 for 8 bits,
  up to 65535 for 16-bit TIFF/PNG), float32, unscaled here (``from_arrays`` standardises).
* **Masks** are class values as stored: grey levels (0/255 becomes classes 0/1 in the Dataset),
  the palette index of a palette image (``P``, how VOC-style masks store classes), 0/1 for a
  1-bit image. An RGB(A) mask whose pixels are all grey (R = G = B) is read as grey; a coloured
  one is refused (colours are not ordered, and JPEG blurs them): save it as a grey or palette
  image of class indices. JPEG masks are refused (lossy: it blurs class values into new ones).
  More than :data:`MAX_CLASSES` distinct values are refused (a photo in the mask folder, or an
  anti-aliased mask: save masks as PNG of class indices).
* **Size limit.** An image over :data:`MAX_PIXELS` is refused before its pixels are decoded, and
  Pillow's decompression-bomb warning is an error.
* **Size.** Without ``size`` every image must have the first one's size (sorted by name); with
  ``size`` (``(height, width)``, or one int for a square) images are resized bilinearly and
  masks by nearest neighbour (no invented in-between classes). A mask must have its image's
  size before resizing either way: a mask of another size is most likely another image's.
* **Order.** Samples in sorted stem order, so the same folders give the same dataset everywhere.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from evokit.errors import ConfigError, DataError

__all__ = ["read_image_folders", "SUFFIXES", "MAX_CLASSES", "MAX_SIZE"]

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
"""The image files read (any case); other files in the folders are ignored."""
MAX_CLASSES = 64
"""The most distinct values the masks may hold together: more is a photo among the masks, or a
mask saved anti-aliased or lossy (a 0/255 mask whose edges hold every grey between)."""
MAX_SIZE = 4096
"""The largest height or width ``size`` may ask for."""
MAX_PIXELS = MAX_SIZE * MAX_SIZE
"""The largest image (height x width) read: a bigger one is refused before its pixels are
decoded (a small compressed file can hold a huge, memory-exhausting image)."""
SHOWN = 5
"""How many unpaired names an error lists."""

_GREY_MODES = ("L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")
"""Pillow modes read as one channel of numbers as they are (8, 16 or 32 bits)."""


def read_image_folders(images: str | Path, masks: str | Path, *, size: Any = None,
                       grayscale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The images of folder ``images`` and the masks of folder ``masks``, paired by file stem.

    Returns ``(x, y)``: ``x`` float32 of shape ``(n, height, width, 1)`` (``grayscale=True``) or
    ``(n, height, width, 3)``, ``y`` int32 masks of shape ``(n, height, width)``, in sorted stem
    order. ``size`` is None (keep the images' common size), an int (square) or
    ``(height, width)``. See the module's docstring for the formats and choices.
    """
    target = _check_size(size)
    if not isinstance(grayscale, (bool, np.bool_)):
        raise ConfigError(f"grayscale={grayscale!r} is invalid: expected True or False")
    image_files, mask_files = _files("images", images), _files("masks", masks)
    lossy = [f.name for f in mask_files.values() if f.suffix.lower() in (".jpg", ".jpeg")]
    if lossy:
        raise DataError(f"masks={str(masks)!r} is invalid: JPEG masks ({', '.join(lossy[:SHOWN])}"
                        f"{', ...' if len(lossy) > SHOWN else ''}); expected lossless masks (PNG, BMP, TIFF): JPEG "
                        "blurs class values into new ones")
    stems = _pair(images, image_files, masks, mask_files)
    xs, ys = [], []
    for stem in stems:
        image = _open("images", image_files[stem])
        mask = _open("masks", mask_files[stem])
        if mask.size != image.size:
            raise DataError(f"masks={str(mask_files[stem])!r} is invalid: a mask of {_hw(mask.size)} for image "
                            f"{str(image_files[stem])!r} of {_hw(image.size)}; expected each mask to have its "
                            "image's size")
        if target is None:
            target = (image.size[1], image.size[0])
        elif size is None and (image.size[1], image.size[0]) != target:
            raise DataError(f"images={str(image_files[stem])!r} is invalid: an image of {_hw(image.size)}, the first "
                            f"one is {target[0]}x{target[1]}; expected images of one size, or pass size= "
                            "(height, width) to resize them all")
        xs.append(_image_array(image, target, bool(grayscale)))
        ys.append(_mask_array(mask, mask_files[stem], target))
    y = np.stack(ys)
    values = np.unique(y)
    if len(values) > MAX_CLASSES:
        raise DataError(f"masks={str(masks)!r} is invalid: the masks hold {len(values)} distinct values; expected "
                        f"class values (at most {MAX_CLASSES}): is a photo among the masks, or were they saved "
                        "anti-aliased? Save masks as PNG of class indices")
    return np.stack(xs), y


def _check_size(size: Any) -> tuple[int, int] | None:
    """``size`` as ``(height, width)``, or None; ConfigError naming ``size`` otherwise."""
    if size is None:
        return None
    pair = (size, size) if isinstance(size, (int, np.integer)) and not isinstance(size, bool) else size
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 1 <= v <= MAX_SIZE
                       for v in pair)):
        raise ConfigError(f"size={size!r} is invalid: expected (height, width) or one integer, each 1 to "
                          f"{MAX_SIZE} pixels, or None to keep the images' own size")
    return int(pair[0]), int(pair[1])


def _hw(pil_size: tuple[int, int]) -> str:
    """Pillow's ``(width, height)`` as ``HxW`` (height first, as the arrays are)."""
    return f"{pil_size[1]}x{pil_size[0]}"


def _files(field: str, folder: str | Path) -> dict[str, Path]:
    """Stem -> image file of ``folder``: ConfigError if it is not a folder, DataError if it
    holds no image file or two files of one stem."""
    path = Path(folder)
    if not path.is_dir():
        what = "a file, not a folder" if path.exists() else "no such folder"
        raise ConfigError(f"{field}={str(folder)!r} is invalid: {what}; expected a folder of image files")
    found: dict[str, Path] = {}
    for file in sorted(path.iterdir()):
        if file.name.startswith(".") or file.suffix.lower() not in SUFFIXES or not file.is_file():
            continue
        if file.stem in found:
            raise DataError(f"{field}={str(folder)!r} is invalid: two files named {file.stem!r} "
                            f"({found[file.stem].name}, {file.name}); expected one file per name")
        found[file.stem] = file
    if not found:
        raise DataError(f"{field}={str(folder)!r} is invalid: no image files in it; expected files ending in "
                        f"{', '.join(SUFFIXES)}")
    return found


def _pair(images: Any, image_files: dict[str, Path], masks: Any, mask_files: dict[str, Path]) -> list[str]:
    """The stems found in both folders, sorted; DataError listing a few names found in one only
    (naming ``masks`` for images without a mask, ``images`` for masks without an image)."""
    sides = (("masks", masks, image_files, mask_files, "image", "mask", "a mask"),
             ("images", images, mask_files, image_files, "mask", "image", "an image"))
    for field, folder, mine, theirs, owner, partner, a_partner in sides:
        alone = sorted(set(mine) - set(theirs))
        if alone:
            shown = ", ".join(mine[s].name for s in alone[:SHOWN]) + (", ..." if len(alone) > SHOWN else "")
            raise DataError(f"{field}={str(folder)!r} is invalid: no {partner} for {len(alone)} {owner}(s): {shown}; "
                            f"expected {a_partner} file of the same name (ending in any of {', '.join(SUFFIXES)}) "
                            f"for every {owner}")
    return sorted(image_files)


def _open(field: str, file: Path) -> Any:
    """The image at ``file``, decoded (a corrupt or truncated file fails here, naming it)."""
    try:
        return _decode(file)
    except UnreadableImage as exc:
        raise DataError(f"{field}={str(file)!r} is invalid: {exc.reason}; {exc.allowed}") from None


class UnreadableImage(Exception):
    """An image file that cannot be read: ``reason`` says why, ``allowed`` what is expected,
    ``brief`` says why in a few words (for a list of files)."""

    def __init__(self, reason: str, allowed: str, brief: str | None = None) -> None:
        super().__init__(f"{reason}; {allowed}")
        self.reason, self.allowed, self.brief = reason, allowed, brief or reason


def _decode(file: Path, load: bool = True) -> Any:
    """The image at ``file``: its pixels decoded (``load``), or only its header read (size and
    mode, cheap); UnreadableImage for a file that is not an image, is broken or truncated, or
    holds more than :data:`MAX_PIXELS` pixels (refused before decoding)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                if image.size[0] * image.size[1] > MAX_PIXELS:
                    raise UnreadableImage(f"an image of {_hw(image.size)}",
                                          f"expected at most {MAX_PIXELS:,} pixels (resize it before reading)",
                                          f"too large: {_hw(image.size)} pixels")
                if load:
                    image.load()  # the pixels stay once the file is closed
    except UnreadableImage:
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow's decoders raise many kinds on a broken file
        unknown = isinstance(exc, Image.UnidentifiedImageError)  # its message repeats the path
        raise UnreadableImage(f"not a readable image ({type(exc).__name__}: {exc})",
                              "expected a PNG, JPEG, BMP or TIFF file",
                              "not an image Pillow can read" if unknown else None) from None
    return image


def _image_array(image: Any, target: tuple[int, int], grayscale: bool) -> np.ndarray:
    """``image`` as float32 ``(height, width, channels)`` of ``target`` size (bilinear)."""
    if image.mode in _GREY_MODES:
        grey = np.asarray(image, dtype=np.float32)
        array = grey[..., None] if grayscale else np.repeat(grey[..., None], 3, axis=-1)
    else:
        array = np.asarray(image.convert("L" if grayscale else "RGB"), dtype=np.float32)
        array = array[..., None] if grayscale else array
    if array.shape[:2] != target:
        array = np.stack([_resize(array[..., c], target, nearest=False) for c in range(array.shape[-1])], axis=-1)
    return array


def _mask_array(mask: Any, file: Path, target: tuple[int, int]) -> np.ndarray:
    """``mask``'s class values as int32 ``(height, width)`` of ``target`` size (nearest)."""
    if mask.mode in ("LA", "PA"):
        mask = mask.getchannel(0)
    if mask.mode in ("RGB", "RGBA", "RGBX"):
        rgb = np.asarray(mask.convert("RGB"))
        if not ((rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])).all():
            raise DataError(f"masks={str(file)!r} is invalid: a colour (RGB) mask; expected a grayscale or palette "
                            "image whose values are the classes (colours are not read as classes: save the mask "
                            "with one grey level or palette index per class)")
        values = rgb[..., 0].astype(np.int32)
    elif mask.mode in ("1", "P", *_GREY_MODES):
        raw = np.asarray(mask)
        if raw.dtype.kind == "f" and not (np.isfinite(raw).all() and (raw == np.round(raw)).all()):
            raise DataError(f"masks={str(file)!r} is invalid: a floating-point mask with fractions; expected whole "
                            "class values")
        values = raw.astype(np.int32)
    else:
        raise DataError(f"masks={str(file)!r} is invalid: an image of mode {mask.mode!r}; expected a grayscale, "
                        "palette or 1-bit image whose values are the classes")
    if values.shape != target:
        values = _resize(values, target, nearest=True).astype(np.int32)
    return values


def _resize(plane: np.ndarray, target: tuple[int, int], nearest: bool) -> np.ndarray:
    """One channel resized to ``target`` ``(height, width)`` as a float image (exact for whole
    values below 2**24 with ``nearest``)."""
    from PIL import Image

    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    image = Image.fromarray(plane.astype(np.float32))  # mode "F"
    return np.asarray(image.resize((target[1], target[0]), resample=resample), dtype=np.float32)

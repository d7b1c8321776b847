"""Read a plain numeric ``.npy`` safely: header first, size bounded before anything is allocated, never unpickled.

``np.load`` trusts the header: a 100-byte file claiming a terabyte of floats makes it allocate (or fail with a
MemoryError) before any check of ours can run, and its errors come in many types. Here the header is read with
``numpy.lib.format``'s own readers, the dtype and the claimed size are checked against what the caller can use,
and only then are exactly that many bytes read. Every problem is an :class:`InvalidInputError` naming the file.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from core.errors import InvalidInputError

DEFAULT_MAX_BYTES = 256 * 2**20  # far above any latent, direction or batch of them; far below a machine's memory


def read_npy(path: str | Path, what: str = "array", max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """The numeric array in ``path`` (bool, integer, float or complex), refusing pickles, structured dtypes,
    claimed sizes over ``max_bytes`` and truncated data before allocating; ``what`` names it in messages."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InvalidInputError(f"The {what} file '{path}' does not exist; check the file name and folder.")
    if path.is_dir():
        raise InvalidInputError(f"'{path}' is a folder, not a {what} file (.npy); choose a file inside it.")
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise InvalidInputError(f"The {what} file '{path.name}' is empty (0 bytes); it may not have finished "
                                        "copying.")
            shape, fortran, dtype = _header(fh, path, what)
            _check_dtype(dtype, path, what)
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            if nbytes > max_bytes:
                raise InvalidInputError(
                    f"The {what} file '{path.name}' is too large: its header claims {shape} values of {dtype} "
                    f"({nbytes:,} bytes), more than the {max_bytes // 2**20} MiB a {what} may hold.")
            if size - fh.tell() < nbytes:
                raise InvalidInputError(f"'{path.name}' is not a plain numeric .npy {what}: its data is truncated "
                                        f"({size - fh.tell():,} of {nbytes:,} bytes).")
            data = fh.read(nbytes)
    except PermissionError as exc:
        raise InvalidInputError(f"There is no permission to read '{path}'; check the file's permissions.") from exc
    except OSError as exc:
        raise InvalidInputError(f"The {what} file '{path.name}' could not be read ({exc.strerror or exc}).") from exc
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def _header(fh, path: Path, what: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from the header, through numpy's own validating readers."""
    refused = f"'{path.name}' is not a plain numeric .npy {what}"
    try:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fh)
        else:
            raise InvalidInputError(f"{refused} (format version {version[0]}.{version[1]} is not read here).")
    except InvalidInputError:
        raise
    except (ValueError, TypeError, SyntaxError, EOFError, OverflowError, MemoryError, RecursionError) as exc:
        # read_magic/read_array_header raise ValueError on a bad magic or header; literal_eval others
        raise InvalidInputError(f"{refused} (its header cannot be read: {_short(exc)}).") from exc
    if any(int(n) < 0 for n in shape):
        raise InvalidInputError(f"{refused} (its header claims the shape {shape}).")
    return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype)


def _check_dtype(dtype: np.dtype, path: Path, what: str) -> None:
    if dtype.hasobject:
        raise InvalidInputError(f"'{path.name}' is not a plain numeric .npy {what}: it holds Python objects, which "
                                "would have to be unpickled (never done, it could run code).")
    if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise InvalidInputError(f"'{path.name}' is not a plain numeric .npy {what}: it holds {dtype}, not float "
                                "numbers.")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]

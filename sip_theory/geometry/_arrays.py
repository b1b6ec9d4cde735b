"""Array plumbing for the geometry metrics: numpy in -> numpy out, torch in -> torch out.

Every public metric converts its embedding argument once, here, into a torch
tensor on the compute device, and converts its result back to the type of that
argument at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import numbers
import re

import numpy as np
import torch

from .._validation import check_embeddings

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "as_tensor2d",
    "fingerprint",
    "like_input",
    "parse_memory",
    "resolve_device",
    "single_thread_if_small",
]

#: Below this many scalar operations a CPU computation runs on one torch thread:
#: for tiny tensors, waking the other threads costs more than the work (and far
#: more on a machine whose cores are busy).
SMALL_WORK = 1 << 22

#: Bytes of scratch memory one block of the neighbour engine may use by default.
DEFAULT_MEMORY_BUDGET = 512 * 2**20

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10,
          "MIB": 2**20, "GIB": 2**30}


def parse_memory(value, *, name: str = "memory_budget") -> int:
    """Return a memory size in bytes from an int or a string such as ``"512MiB"``.

    Examples
    --------
    >>> parse_memory("1.5 GB"), parse_memory(1024), parse_memory("64MiB")
    (1500000000, 1024, 67108864)
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number of bytes or a string like '512MiB'")
    if isinstance(value, numbers.Real):
        out = int(value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", value)
        unit = match.group(2).upper() if match else None
        if match is None or unit not in _UNITS:
            raise ValueError(f"{name} must look like '512MiB', '2GB' or 1048576, got {value!r}")
        out = int(float(match.group(1)) * _UNITS[unit])
    else:
        raise TypeError(f"{name} must be a number of bytes or a string like '512MiB'")
    if out < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return out


def resolve_device(device, like=None) -> torch.device:
    """Return the compute device: ``device`` if given, else that of a torch ``like``, else CPU.

    Raises
    ------
    ValueError
        A CUDA device is requested but CUDA is not available, or the name is unknown.

    Examples
    --------
    >>> resolve_device(None)
    device(type='cpu')
    """
    if device is None:
        if isinstance(like, torch.Tensor):
            return like.device
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available here")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return dev


def _resolve_dtype(dtype, current: torch.dtype) -> torch.dtype:
    if dtype is None:
        return current if current in (torch.float32, torch.float64) else torch.float64
    table = {
        "float32": torch.float32, "float64": torch.float64,
        np.float32: torch.float32, np.float64: torch.float64,
        torch.float32: torch.float32, torch.float64: torch.float64,
    }
    key = np.dtype(dtype).type if isinstance(dtype, np.dtype) else dtype
    if key not in table:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return table[key]


def as_tensor2d(x, *, name: str = "embeddings", device=None, dtype=None) -> torch.Tensor:
    """Validate a 2-D finite embedding matrix and return it as a torch tensor.

    numpy input is wrapped without a copy when it already has the compute dtype
    and the device is the CPU. Rows with NaN or infinite values raise
    ``ValueError`` naming the rows.

    Examples
    --------
    >>> as_tensor2d([[0, 1], [2, 3]]).dtype
    torch.float64
    """
    dev = resolve_device(device, x)
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.ndim != 2:
            raise ValueError(
                f"{name} must be a 2-D array (n_samples, n_features), got shape {tuple(t.shape)}"
            )
        if t.shape[0] == 0 or t.shape[1] == 0:
            raise ValueError(f"{name} must be non-empty, got shape {tuple(t.shape)}")
        if t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"{name} must be real numeric, got dtype {t.dtype}")
        t = t.to(device=dev, dtype=_resolve_dtype(dtype, t.dtype))
        bad = ~torch.isfinite(t).all(dim=1)
        if bool(bad.any()):
            rows = torch.nonzero(bad).flatten().tolist()
            shown = ", ".join(map(str, rows[:5])) + (" ..." if len(rows) > 5 else "")
            raise ValueError(f"{name} has {len(rows)} row(s) with NaN or inf values (rows {shown})")
        return t
    arr = check_embeddings(x, name=name)
    if not arr.flags.writeable:  # torch.from_numpy warns on read-only memory
        arr = arr.copy()
    arr = np.ascontiguousarray(arr)  # torch.from_numpy refuses negative strides (X[::-1])
    target = _resolve_dtype(dtype, torch.from_numpy(arr[:0]).dtype)
    return torch.from_numpy(arr).to(device=dev, dtype=target)


def like_input(value, like, *, dtype=None):
    """Return ``value`` (scalar or array) as the array type of ``like``.

    numpy (or any non-torch) ``like``: scalars become ``numpy.float64`` and arrays
    numpy arrays; torch ``like``: tensors on ``like``'s device.

    Examples
    --------
    >>> like_input(0.5, [[1.0]])
    np.float64(0.5)
    >>> like_input(0.5, torch.zeros(1, 1))
    tensor(0.5000, dtype=torch.float64)
    """
    if isinstance(like, torch.Tensor):
        if isinstance(value, torch.Tensor):
            return value.to(like.device)
        arr = np.asarray(value)
        t = torch.as_tensor(arr, dtype=dtype)
        return t.to(like.device)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if np.ndim(value) == 0:
        return np.float64(value) if dtype is None else np.asarray(value, dtype=dtype)[()]
    return np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)


def fingerprint(t: torch.Tensor) -> str:
    """A short content hash of a tensor (shape, dtype and bytes), to match precomputed results.

    Examples
    --------
    >>> fingerprint(torch.zeros(2, 2)) == fingerprint(torch.zeros(2, 2))
    True
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(str((tuple(t.shape), str(t.dtype))).encode())
    h.update(np.ascontiguousarray(t.detach().cpu().numpy()).tobytes())
    return h.hexdigest()


@contextlib.contextmanager
def single_thread_if_small(work: float, device=None):
    """Run the block with one torch CPU thread when ``work`` (scalar ops) is small.

    The previous thread count is restored on exit.

    Examples
    --------
    >>> with single_thread_if_small(10):
    ...     torch.get_num_threads()
    1
    """
    dev = torch.device("cpu") if device is None else torch.device(device)
    before = torch.get_num_threads()
    switch = dev.type == "cpu" and before > 1 and work < SMALL_WORK
    if switch:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if switch:
            torch.set_num_threads(before)

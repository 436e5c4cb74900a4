"""Array backends: the array module an executor computes with, and moving arrays on and off it."""

from __future__ import annotations

import importlib
from collections.abc import Collection
from types import ModuleType
from typing import Any

import numpy as np

from depthgraph.errors import InputError, ParameterError
from depthgraph.ir import Graph

BACKENDS = ("numpy", "cupy")


def array_module(backend: str) -> ModuleType:
    """The module (``numpy`` or ``cupy``) whose functions the op implementations call."""
    if backend not in BACKENDS:
        raise ParameterError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    try:
        return importlib.import_module(backend)
    except ImportError as exc:
        raise ParameterError(f"backend {backend!r} is not available: {exc}") from None


def gpu_available() -> bool:
    """Whether CuPy imports and sees a GPU: the benches' default backend is ``"cupy"`` if so.

    >>> isinstance(gpu_available(), bool)
    True
    """
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 — no CuPy, no driver or no device: each means no GPU here
        return False


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array."""
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else np.asarray(array)


def bind_inputs(graph: Graph, inputs: dict[str, Any], xp: ModuleType, elsewhere: Collection[str] = ()) -> dict[str, Any]:
    """Check ``inputs`` against the graph's declared inputs and put them on ``xp``'s device.

    Raises `InputError` for a missing or extra name, a wrong shape, or a dtype that would
    lose information if cast to the declared one (float64 data into a float32 input, say).
    Names in ``elsewhere`` are inputs given but held elsewhere (a cluster's workers), checked
    where they are used; they are not missing, and not returned.
    """
    missing = [name for name in graph.inputs if name not in inputs and name not in elsewhere]
    extra = [name for name in [*inputs, *elsewhere] if name not in graph.inputs]
    if missing or extra:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise InputError(f"inputs: {'; '.join(parts)} (the graph takes {list(graph.inputs)})")
    bound = {}
    for name, node in graph.inputs.items():
        if name in elsewhere:
            continue
        value = inputs[name]
        if xp is np:
            value = to_numpy(value)
        value = xp.asarray(value)
        if tuple(value.shape) != node.shape:
            raise InputError(f"input {name!r} has shape {tuple(value.shape)}, the graph declares {node.shape}")
        if not np.can_cast(value.dtype, node.dtype, casting="safe"):
            raise InputError(f"input {name!r} has dtype {value.dtype}, which does not cast safely to {node.dtype}")
        bound[name] = value.astype(node.dtype, copy=False)
    return bound

"""tests/gpu: every test here needs CuPy and a usable CUDA GPU, and is skipped cleanly without them.

The check runs once per session, in an autouse session-scoped fixture: it is set up before any
other fixture of these tests (a higher scope is set up first), so nothing here — a dask-cuda
cluster, say — is started on a machine without a GPU. Each test is also marked ``gpu``
(``pytest -m "not gpu"`` deselects them all).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def gpu_unavailable() -> str | None:
    """Why CuPy cannot run here, or None if it can (imports CuPy, counts devices, runs a kernel)."""
    try:
        import cupy
    except Exception as exc:  # noqa: BLE001 — ImportError, or a CUDA library that fails to load
        return f"CuPy is not importable ({type(exc).__name__}: {exc})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 — no driver, or no device visible
        return f"no usable CUDA device ({type(exc).__name__}: {exc})"
    if count < 1:
        return "no CUDA device"
    try:
        if int((cupy.arange(4) + 1).sum()) != 10:
            return "CuPy ran a trial kernel and got a wrong answer"
    except Exception as exc:  # noqa: BLE001 — e.g. a driver too old for this CuPy, or NVRTC missing
        return f"CuPy cannot run a kernel ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture(scope="session", autouse=True)
def _require_gpu() -> None:
    reason = gpu_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def cupy():
    import cupy

    return cupy


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this directory ``gpu`` (the modules also set ``pytestmark``)."""
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.gpu)

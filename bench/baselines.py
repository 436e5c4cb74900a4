"""Hand-written baselines for bench/executors.py: each algorithm computed with the array module
directly (NumPy or CuPy), no depthgraph.

Each takes the array module ``xp`` and the inputs (already on xp's device) and returns the
algorithm's outputs; it uses xp directly, no depthgraph. They compute the same function as
the algorithm's graph, by the natural hand-written method, not the same op sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from algorithms.conv import fft_length


_SCAN_KERNEL = None
_SCAN_SOURCE = r"""
extern "C" __global__ void linear_scan(const double* a, const double* b, double* h,
                                       const long long L, const long long n) {
    // h_t = a_t * h_{t-1} + b_t, h_{-1} = 0: one thread per channel i, looping over t.
    long long i = (long long)blockDim.x * blockIdx.x + threadIdx.x;
    if (i >= n) return;
    double s = 0.0;
    #pragma unroll 8
    for (long long t = 0; t < L; ++t) {
        s = a[t * n + i] * s + b[t * n + i];
        h[t * n + i] = s;
    }
}
"""


def linear_scan(xp: Any, a: Any, b: Any) -> Any:
    """h_t = a_t ⊙ h_{t-1} + b_t (rows t of a, b: (L, n)), h_{-1} = 0.

    CuPy: one fused kernel, one thread per channel looping over t. NumPy: a Python loop over t,
    each step vectorised over the channels.
    """
    L, n = a.shape
    if xp.__name__ == "cupy":
        global _SCAN_KERNEL
        if _SCAN_KERNEL is None:
            _SCAN_KERNEL = xp.RawKernel(_SCAN_SOURCE, "linear_scan")
        a = xp.ascontiguousarray(a, dtype=xp.float64)
        b = xp.ascontiguousarray(b, dtype=xp.float64)
        h = xp.empty((L, n), dtype=xp.float64)
        threads = 128
        _SCAN_KERNEL(((n + threads - 1) // threads,), (threads,), (a, b, h, np.int64(L), np.int64(n)))
        return h
    h = np.empty_like(b)
    if L:
        h[0] = b[0]
    for t in range(1, L):
        np.multiply(a[t], h[t - 1], out=h[t])
        h[t] += b[t]
    return h


def _kernel_out(xp: Any, D: Any, taps: Any) -> Any:
    """K = (D, taps…) as one vector."""
    return xp.concatenate([D[0], taps])


def bl_recurrence(xp, A, B, C, D, u):
    """Matvec loop: X[k] = A X[k-1] + B u_{k-1} (rows are states), then y = X Cᵀ + D u."""
    L, n = u.shape[0], A.shape[0]
    Bu = u[:, None] * B[:, 0][None, :]
    X = xp.zeros((L, n), dtype=A.dtype)
    for k in range(1, L):
        xp.matmul(A, X[k - 1], out=X[k])
        X[k] += Bu[k - 1]
    return {"y": X @ C[0] + D[0, 0] * u}


def bl_kernel_sequential(xp, A, B, C, D, L):
    """Matvec loop: V[j] = v_{j+1} = A^j B, K_l = C v_l."""
    if L == 1:
        return {"K": D[0].copy()}
    n = A.shape[0]
    V = xp.empty((L - 1, n), dtype=A.dtype)
    V[0] = B[:, 0]
    for j in range(1, L - 1):
        xp.matmul(A, V[j - 1], out=V[j])
    return {"K": _kernel_out(xp, D, V @ C[0])}


def bl_kernel_doubling(xp, A, B, C, D, L):
    """Doubling with one batched matmul per step, on rows: X[m:m+r] = X[:r] (A^m)ᵀ, (A^2m)ᵀ = (A^m)ᵀ(A^m)ᵀ."""
    count = L - 1
    if count < 1:
        return {"K": D[0].copy()}
    n = A.shape[0]
    X = xp.empty((count, n), dtype=A.dtype)
    X[0] = B[:, 0]
    PT, m = A.T.copy(), 1
    while m < count:
        r = min(m, count - m)
        xp.matmul(X[:r], PT, out=X[m:m + r])
        m += r
        if m < count:
            PT = PT @ PT
    return {"K": _kernel_out(xp, D, X @ C[0])}


def bl_kernel_diagonal(xp, a, B, C, D, L):
    """Powers a^0 … a^{L-2} by one cumprod, then all taps by one matvec."""
    if L == 1:
        return {"K": D[0].copy()}
    n = a.shape[0]
    P = xp.empty((L - 1, n), dtype=a.dtype)
    P[0] = 1.0
    P[1:] = a
    P = xp.cumprod(P, axis=0)
    return {"K": _kernel_out(xp, D, P @ (C[0] * B[:, 0]))}


def bl_kernel_dplr(xp, p, B, C, D, L):
    """Closed form K_l = C B + ((s^{l-1} − 1)/‖p‖²)(C p)(pᵀ B), powers of s by one xp.power."""
    if L == 1:
        return {"K": D[0].copy()}
    norm2 = p @ p
    S = xp.power(1.0 + norm2, xp.arange(L - 1, dtype=p.dtype))
    rank_one = (C[0] @ p) * (p @ B[:, 0]) / norm2
    return {"K": _kernel_out(xp, D, (C[0] @ B[:, 0]) + (S - 1.0) * rank_one)}


def bl_conv_direct(xp, K, u):
    """xp.convolve, truncated to L (CuPy may choose its FFT method for long inputs)."""
    return {"y": xp.convolve(K, u)[: u.shape[0]]}


def bl_conv_fft(xp, K, u, pow2=False):
    L = u.shape[0]
    N = fft_length(L, pow2)
    return {"y": xp.fft.irfft(xp.fft.rfft(K, n=N) * xp.fft.rfft(u, n=N), n=N)[:L]}


def bl_scan(xp, a, b):
    return {"h": linear_scan(xp, a, b)}


def bl_ssm_ltv(xp, a, Bk, Ck, D, u):
    """States by the fused scan (x_{k+1} = h_k), then y_k = Ck_k·x_k + D u_k as one reduction."""
    L = u.shape[0]
    y = D[0, 0] * u
    if L > 1:
        h = linear_scan(xp, a[: L - 1], Bk[: L - 1] * u[: L - 1, None])
        y[1:] += (Ck[1:] * h).sum(axis=1)
    return {"y": y}


def bl_ridge_sherman_morrison(xp, q, k, v, lam):
    """The rank-1 update loop for M_t^{-1} (w_t = M_t^{-1} q_t inside it); S_t by one cumsum, o_t batched."""
    T, d = q.shape
    Minv = xp.eye(d, dtype=q.dtype) / lam
    W = xp.empty((T, d), dtype=q.dtype)
    for t in range(T):
        kt = k[t]
        u = Minv @ kt
        Minv = Minv - xp.outer(u / (1.0 + kt @ u), u)
        xp.matmul(Minv, q[t], out=W[t])
    S = xp.cumsum(v[:, :, None] * k[:, None, :], axis=0)
    return {"o": xp.matmul(S, W[:, :, None])[:, :, 0]}


def bl_ridge_causal_solve(xp, q, k, v, lam):
    """Prefix sums by cumsum, then T solves as one batched xp.linalg.solve."""
    d = q.shape[1]
    P = xp.cumsum(k[:, :, None] * k[:, None, :], axis=0) + lam * xp.eye(d, dtype=q.dtype)
    S = xp.cumsum(v[:, :, None] * k[:, None, :], axis=0)
    W = xp.linalg.solve(P, q[:, :, None])
    return {"o": xp.matmul(S, W)[:, :, 0]}


def bl_ridge_noncausal(xp, q, k, v, lam):
    d = q.shape[1]
    M = k.T @ k + lam * xp.eye(d, dtype=q.dtype)
    return {"o": q @ xp.linalg.solve(M, k.T @ v)}


# name -> (what it is, f(xp, inputs, params) -> outputs)
BASELINES: dict[str, tuple[str, Callable[[Any, dict, dict], dict]]] = {
    "recurrence": ("matvec loop", lambda xp, i, p: bl_recurrence(xp, i["A"], i["B"], i["C"], i["D"], i["u"])),
    "conv-direct": ("xp.convolve", lambda xp, i, p: bl_conv_direct(xp, i["K"], i["u"])),
    "conv-fft": ("xp.fft rfft/irfft", lambda xp, i, p: bl_conv_fft(xp, i["K"], i["u"], p.get("pow2", False))),
    "kernel-sequential": ("matvec loop",
                          lambda xp, i, p: bl_kernel_sequential(xp, i["A"], i["B"], i["C"], i["D"], p["L"])),
    "kernel-doubling": ("doubling, batched matmul",
                        lambda xp, i, p: bl_kernel_doubling(xp, i["A"], i["B"], i["C"], i["D"], p["L"])),
    "kernel-diagonal": ("cumprod + matvec",
                        lambda xp, i, p: bl_kernel_diagonal(xp, i["a"], i["B"], i["C"], i["D"], p["L"])),
    "kernel-dplr": ("closed form, xp.power",
                    lambda xp, i, p: bl_kernel_dplr(xp, i["p"], i["B"], i["C"], i["D"], p["L"])),
    "scan-sequential": ("fused scan", lambda xp, i, p: bl_scan(xp, i["a"], i["b"])),
    "scan-hillis-steele": ("fused scan", lambda xp, i, p: bl_scan(xp, i["a"], i["b"])),
    "scan-blelloch": ("fused scan", lambda xp, i, p: bl_scan(xp, i["a"], i["b"])),
    "ssm-ltv": ("fused scan + reduction",
                lambda xp, i, p: bl_ssm_ltv(xp, i["a"], i["Bk"], i["Ck"], i["D"], i["u"])),
    "ridge-sherman-morrison": ("rank-1 update loop",
                               lambda xp, i, p: bl_ridge_sherman_morrison(xp, i["q"], i["k"], i["v"], i["lam"])),
    "ridge-causal-solve": ("cumsum + batched solve",
                           lambda xp, i, p: bl_ridge_causal_solve(xp, i["q"], i["k"], i["v"], i["lam"])),
    "ridge-noncausal": ("one solve", lambda xp, i, p: bl_ridge_noncausal(xp, i["q"], i["k"], i["v"], i["lam"])),
}

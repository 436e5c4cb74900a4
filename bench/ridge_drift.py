"""How far the Sherman–Morrison chain of causal ridge attention drifts from direct solves.

Run from the repository root::

    python bench/ridge_drift.py                          # T = 4096, d = 16 and 64, λ = 0.001, 0.1, 1, 10
    python bench/ridge_drift.py --T 1024 --d 8 --lam 1   # one smaller case
    python bench/ridge_drift.py --no-float32             # float64 only

This is a measurement, not a test: it prints a Markdown table (docs/ridge_drift.md holds one run
and its reading) and exits 0.

For each (d, λ) it draws q, k, v standard normal (T, d) (seeded) and computes o_t, t = 1..T:

* **reference** — float64, one ``numpy.linalg.solve`` per position: w_t = (P_t + λI)^{-1} q_t,
  o_t = S_t w_t, with P_t = Σ_{s≤t} k_s k_sᵀ and S_t = Σ_{s≤t} v_s k_sᵀ kept as running sums.
* **SM f64** — the ``ridge-sherman-morrison`` graph run by the eager executor in float64: the
  rank-1 updates of M_t^{-1} from M_0^{-1} = I/λ, t after t.
* **solve f64** — the ``ridge-causal-solve`` graph (scanned prefix sums, then a solve per
  position), float64. It is a second direct method, so its distance to the reference is the
  noise floor of the comparison itself (a direct solve is only good to about ε·κ(M_t)).
* **SM f32** — the same Sherman–Morrison graph with every float64 in it (inputs, constants)
  made float32, through its JSON form, run on float32 inputs.
* **solve f32** — a float32 direct solve per position (NumPy, running sums in float32): what
  float32 costs anyway, to compare SM f32 with.

Each column is the relative error ‖o_t − o_t^ref‖ / ‖o_t^ref‖ against the float64 reference at
t = 1, 64, 512, 4096 (those ≤ T) and its maximum over all t (with the t where it occurs).
Beside them, at the same t: κ(M_t) = cond(K_tᵀK_t + λI) (2-norm), what bounds a direct solve's
error; ‖M_t‖/λ = ‖M_t‖·‖M_0^{-1}‖, how far M_t^{-1} has shrunk since the chain started at I/λ;
and the SM f64 drift divided by ε·‖M_t‖/λ (ε = float64 machine epsilon), which stays of
order 1 if the drift is that product (docs/ridge_drift.md).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

import algorithms
import depthgraph
from depthgraph.cli import positive_float, positive_int

CHECKPOINTS = (1, 64, 512, 4096)


def direct(q: np.ndarray, k: np.ndarray, v: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """o_t by one solve per position in the dtype of the inputs; κ(M_t) and ‖M_t‖/λ (in float64)."""
    T, d = q.shape
    eye = np.eye(d, dtype=q.dtype)
    P, S = np.zeros((d, d), q.dtype), np.zeros((d, d), q.dtype)
    o, kappa, spread = np.empty_like(q), np.empty(T), np.empty(T)
    for t in range(T):
        P += np.outer(k[t], k[t])
        S += np.outer(v[t], k[t])
        M = P + q.dtype.type(lam) * eye
        o[t] = S @ np.linalg.solve(M, q[t])
        sigma = np.linalg.svd(M.astype(np.float64), compute_uv=False)
        kappa[t], spread[t] = sigma[0] / sigma[-1], sigma[0] / lam
    return o, kappa, spread


def as_float32(graph: depthgraph.Graph) -> depthgraph.Graph:
    """The same DAG with float32 inputs and constants (so no op promotes back to float64)."""
    return depthgraph.Graph.from_json(graph.to_json().replace('"float64"', '"float32"'))


def row_errors(o: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.linalg.norm(o - ref, axis=1) / np.linalg.norm(ref, axis=1)


def summary(values: np.ndarray) -> list[str]:
    at = [f"{values[t - 1]:.1e}" for t in CHECKPOINTS if t <= len(values)]
    return at + [f"{values.max():.1e} (t={values.argmax() + 1})"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", type=positive_int, default=4096)
    parser.add_argument("--d", type=positive_int, nargs="+", default=[16, 64])
    parser.add_argument("--lam", type=positive_float, nargs="+", default=[0.001, 0.1, 1.0, 10.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-float32", dest="float32", action="store_false")
    args = parser.parse_args()

    print(f"T = {args.T}, seed {args.seed}; NumPy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()} {platform.processor() or ''}".rstrip())
    ts = [t for t in CHECKPOINTS if t <= args.T]
    head = " | ".join(f"t={t}" for t in ts)
    print(f"\n| d | λ | method | {head} | max (at t) |")
    print("|---|---|---|" + "---|" * (len(ts) + 1))
    started = time.perf_counter()
    for d in args.d:
        sm = algorithms.get("ridge-sherman-morrison").build(T=args.T, d=d)
        solve = algorithms.get("ridge-causal-solve").build(T=args.T, d=d)
        sm32 = as_float32(sm) if args.float32 else None
        for lam in args.lam:
            rng = np.random.default_rng([args.seed, d])
            inputs = {name: rng.standard_normal((args.T, d)) for name in "qkv"}
            inputs["lam"] = np.array(lam)
            ref, kappa, spread = direct(inputs["q"], inputs["k"], inputs["v"], lam)
            drift = row_errors(depthgraph.execute(sm, inputs)["o"], ref)
            rows = {"κ(M_t)": summary(kappa), "‖M_t‖/λ": summary(spread), "SM f64": summary(drift),
                    "SM f64 / (ε‖M_t‖/λ)": summary(drift / (np.finfo(np.float64).eps * spread)),
                    "solve f64": summary(row_errors(depthgraph.execute(solve, inputs)["o"], ref))}
            if sm32 is not None:
                low = {name: x.astype(np.float32) for name, x in inputs.items()}
                o32 = depthgraph.execute(sm32, low)["o"]
                assert o32.dtype == np.float32
                rows["SM f32"] = summary(row_errors(o32.astype(np.float64), ref))
                rows["solve f32"] = summary(row_errors(direct(low["q"], low["k"], low["v"], lam)[0], ref))
            for method, cells in rows.items():
                print(f"| {d} | {lam:g} | {method} | " + " | ".join(cells) + " |")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

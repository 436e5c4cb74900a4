"""Calibration: microbenchmarks of every op and gather, fitted into a `depthgraph.cost.Profile`.

What is timed is exactly what the executors call — an op's ``impl`` on one member, its
``batched`` form on k stacked members (with the executor's final contiguous copy), the same with
one operand shared, its ``packed`` form, and the levels executor's gathers — at a
spread of shape footprints, on arrays of random data.

**Timing.** Each footprint: a warm-up, then ``trials`` trials of R back-to-back calls (R sized
to about a millisecond); per-call seconds are the trial's total over R. Trials farther than
three scaled MADs from the median are rejected, and trials are added until ``min_samples``
remain. On NumPy a trial is timed by the host clock. On CuPy the device is first held by a
spin kernel long enough for the host to queue all R calls behind it; the host clock then gives
the *host* cost of a call, and CUDA events around the queued calls give its *device* cost, even
for kernels far shorter than their launch. The clock lives in `depthgraph.timing`.

**In situ** (the default on CuPy; ``in_situ=False`` times each call repeated alone in a loop). In a
graph a call follows the executor's own Python (finding the group, assembling its operands), not
a copy of itself, and on a GPU host it costs more there than repeated alone: after a NumPy levels
run of one add, a ``dot`` cost 36 µs more than its 66 µs alone, a matmul 14 more than 33, an add
5 more than 14, a solve 34 more than 168 (``bench/switches.py --after`` on an H200) — about what
the same calls missed in real graphs (``bench/prediction_gaps.py``: ``dot`` +35, matmul +12, add
+5, solve +50 µs), while alternating two device calls cost only 0–12 µs more than the two alone.
The extra grows with the call, so per-group overheads cannot carry it: fitted on graphs of adds
and products, they are too much for a graph of elementwise ops and too little for one of
products. In situ, each call is timed alternating with the executor's own work (`_neighbour`:
the levels executor running a one-add graph on NumPy, host work only), and the neighbour's own
cost, timed alone, is subtracted: a call's model carries what the executor's Python between
calls costs it. On two H200 validations this brought the levels executor to a median error of
7.3 and 7.9 % (docs/BENCHMARKS.md, thirteenth session). On NumPy a call's cost is its
arithmetic more than its Python, and in situ predicted the CPU validation points about 3 points
worse than alone (on the same measurements, both ways round): there the default is alone.

**The host's speed.** A cloud host runs in phases of different speed (`depthgraph.timing`), and
a calibration spans several. So the host's reference (`depthgraph.timing.Clock.reference`) is
timed before each footprint, each host time is taken relative to it, and the profile's host
costs are all at one speed: the median reference (`Profile.host_reference`). Device times are
not scaled.

**CUDA graphs.** On CuPy each footprint is also captured — R calls computed as a recording
computes them (`depthgraph.executors.cuda_graphs.CapturableCupy`) — into one CUDA graph, and the
replayed graph is timed by events: the call's device cost inside a graph (`CallModel.graph`).
Footprints that cannot be captured (cuBLAS, cuSOLVER) have none.

**Executor overheads** (Python per node, group, task and run; a Dask cluster's cost per byte)
are fitted from small synthetic graphs after the calls: `depthgraph.overheads`.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import itertools
import platform
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from depthgraph import ops
from depthgraph.cost import Measurement, Profile, fit_calls
from depthgraph.errors import ParameterError
from depthgraph.executors import execute, gathers
from depthgraph.executors.backend import array_module
from depthgraph.executors.cuda_graphs import CapturableCupy, copy_into
from depthgraph.ir import Graph, Node
from depthgraph.overheads import (OVERHEAD_OPS, OVERHEAD_ROUNDS, OVERHEAD_SECONDS, fit_overheads, overhead_graphs,
                                  overhead_inputs, time_overhead_graphs, timing_kinds, vector_add)
from depthgraph.prediction import impl_form
from depthgraph.timing import Clock

# ------------------------------------------------------------------ what is sampled


# Operands are rotated among copies worth at least this many bytes, so that a footprint smaller
# than the caches (an H100's L2 is 50 MB) is timed reading memory, as a DAG's first touch does.
ROTATE_BYTES = 128 * 2 ** 20
MAX_COPIES = 8


@dataclass(frozen=True)
class Sample:
    """One footprint to time: ``make()`` draws a fresh operand set, ``call(xp, operands)`` runs it
    once with array module ``xp``; its kind, work, bytes and steps (the op's span) key the fit,
    and an op's footprint (the bytes one member moves; None for a copy) its band."""

    kind: str
    work: int
    nbytes: int
    make: Callable[[], list[Any]]
    call: Callable[[Any, list[Any]], Any]
    label: str
    steps: int = 1
    footprint: int | None = None

    def copies(self) -> list[list[Any]]:
        """Enough operand sets to defeat the caches when cycled over."""
        return [self.make() for _ in range(min(max(-(-ROTATE_BYTES // max(self.nbytes, 1)), 1), MAX_COPIES))]

    def setup(self, xp: Any, copies: list[list[Any]] | None = None) -> Callable[[], Any]:
        """A no-argument call with ``xp`` that cycles over ``copies`` (default: fresh `copies`)."""
        rotation = itertools.cycle(copies or self.copies())
        return lambda: self.call(xp, next(rotation))


def _vector(dtype: str = "float64") -> Callable[[Graph, int], list[Node]]:
    return lambda g, s: [g.input("a", (s,), dtype), g.input("b", (s,), dtype)]


def _one(dtype: str = "float64") -> Callable[[Graph, int], list[Node]]:
    return lambda g, s: [g.input("a", (s,), dtype)]


def _rows(g: Graph, s: int) -> list[Node]:
    return [g.input("a", (s, 4))]


# op (#variant) -> (operands at scale s, the op's attributes — or a function of s —, scales s)
_POW2 = [2 ** i for i in range(0, 25, 2)]
_MATRIX = [2 ** i for i in range(12)]
_SPECIMENS: dict[str, tuple] = {
    **{op: (_vector(), {}, _POW2) for op in ("add", "sub", "mul", "div", "dot")},
    **{op: (_one(), {}, _POW2) for op in ("neg", "exp", "log", "sqrt", "abs")},
    **{op: (_one("complex128"), {}, _POW2) for op in ("real", "conj")},
    **{op: (_one("complex128"), {"n": None}, _POW2) for op in ("fft", "ifft")},
    "rfft": (_one(), {"n": None}, _POW2),
    "irfft": (lambda g, s: [g.input("a", (s // 2 + 1,), "complex128")], lambda s: {"n": s}, _POW2[1:]),
    "pow": (_one(), {"exponent": 2.0}, _POW2),
    "sum": (_one(), {"axis": None}, _POW2),
    "outer": (_vector(), {}, [2 ** i for i in range(0, 13, 2)]),
    "matmul": (lambda g, s: [g.input("A", (s, s)), g.input("x", (s,))], {}, _MATRIX + [4096]),
    "matmul#mm": (lambda g, s: [g.input("A", (s, s)), g.input("B", (s, s))], {}, _MATRIX),
    "matmul#dot": (lambda g, s: [g.input("a", (1, s)), g.input("x", (s, 1))], {}, _MATRIX + [4096]),
    "matmul#row": (lambda g, s: [g.input("a", (1, s)), g.input("A", (s, s))], {}, _MATRIX),
    "solve": (lambda g, s: [g.input("A", (s, s)), g.input("b", (s,))], {}, _MATRIX[:11]),
    "inv": (lambda g, s: [g.input("A", (s, s))], {}, _MATRIX[:11]),
    **{op: (lambda g, s: [g.input(f"x{i}", (s,)) for i in range(8)], {"axis": 0}, _POW2[:-1])
       for op in ("concat", "stack")},
    "getitem": (_rows, {"index": ops.encode_index((0,))}, _POW2[:-1]),
    "reshape": (_rows, lambda s: {"shape": (4, s)}, _POW2[:-1]),
    "transpose": (_rows, {"axes": (1, 0)}, _POW2[:-1]),
    "const": (lambda g, s: [], lambda s: {"value": (0.5,) * s, "shape": (s,), "dtype": "float64"}, _POW2[:7]),
}

BATCH_SIZES = (8, 256)
# Batched at every scale, not every other: CuPy solves a batch of matrices up to 256×256 by one
# batched LU and larger ones one by one (cupy.linalg.solve, its batched-gesv limit), so the
# footprint bands of these kinds (`depthgraph.cost.footprint_bands`) need samples either side.
BATCHED_AT_EVERY_SCALE = frozenset({"solve", "inv"})
GATHERED = (1, 2, 8, 32, 256)  # slabs a sampled gather reads: one, a few, past one kernel size, a full launch
SCATTERED_ELEMENTS = 2 ** 21  # scattered gathers list an entry per element: kept to 48 MiB of entries


def _member(spec_name: str, s: int) -> Node:
    """The op node of specimen ``spec_name`` at scale ``s``, built with the public graph API."""
    operands, attrs, _ = _SPECIMENS[spec_name]
    op = spec_name.split("#")[0]
    g = Graph()
    return g.apply(op, operands(g, s), **(attrs(s) if callable(attrs) else attrs))


def _random(xp: Any, rng: np.random.Generator, shape: tuple[int, ...], dtype: str, square: bool) -> Any:
    data = np.abs(rng.standard_normal(shape)) + 0.5  # positive: log and sqrt stay real
    if np.dtype(dtype).kind == "c":
        data = data + 1j * rng.standard_normal(shape)
    if square and len(shape) >= 2 and shape[-1] == shape[-2]:  # a solve's matrix: well conditioned
        data = data + shape[-1] * np.eye(shape[-1])
    return xp.asarray(data.astype(dtype))


def _samples_of(spec_name: str, xp: Any, rng: np.random.Generator, max_elements: int) -> Iterable[Sample]:
    """Every footprint of one specimen: ``impl`` at each scale, then the batched forms."""
    op_name = spec_name.split("#")[0]
    op = ops.get(op_name)

    def maker(shapes: list[tuple[int, ...]], dtypes: list[str], shared: int | None = None) -> Callable[[], list[Any]]:
        def make() -> list[Any]:
            arrays = [_random(xp, rng, shape, dtype, op_name == "solve") for shape, dtype in zip(shapes, dtypes)]
            return [a[:1] if i == shared else a for i, a in enumerate(arrays)]
        return make

    for at, s in enumerate(_SPECIMENS[spec_name][2]):
        node = _member(spec_name, s)
        elements = max(ops.size(x.shape) for x in (*node.inputs, node))
        if elements > max_elements:
            continue
        kw = node.kwargs
        shapes, dtypes = [x.shape for x in node.inputs], [x.dtype for x in node.inputs]
        (work, steps), member_bytes = ops.cost(node), ops.bytes_moved(node)
        label = f"{spec_name} s={s}"
        yield Sample(f"{op_name}:{impl_form(node)}", work, member_bytes, maker(shapes, dtypes),
                     lambda xp, a, kw=kw: op.impl(xp, *a, **kw), label, steps, member_bytes)
        if steps == 0 or (at % 2 and op_name not in BATCHED_AT_EVERY_SCALE):  # views are never batched
            continue
        out_bytes = ops.size(node.shape) * np.dtype(node.dtype).itemsize
        in_bytes = [ops.size(x.shape) * np.dtype(x.dtype).itemsize for x in node.inputs]
        # The executor's final contiguous copy is part of what a batched call costs it.
        batched = lambda xp, a, kw=kw: xp.ascontiguousarray(op.batched(xp, *a, **kw))
        for k in BATCH_SIZES:
            if k * elements > max_elements:
                continue
            stacked = [(k,) + shape for shape in shapes]
            if op.packed is not None:
                yield Sample(f"{op_name}:packed", k * work, k * member_bytes,  # all k·m operands in one array
                             maker([(k, len(shapes)) + shapes[0]], dtypes[:1]),
                             lambda xp, a, kw=kw: xp.ascontiguousarray(op.packed(xp, a[0], **kw)), f"{label} k={k}",
                             steps, member_bytes)
                continue
            yield Sample(f"{op_name}:batched", k * work, k * member_bytes, maker(stacked, dtypes), batched,
                         f"{label} k={k}", steps, member_bytes)
            if len(shapes) == 2:  # the larger operand shared by the group (a matrix applied to k vectors or rows)
                shared = int(in_bytes[1] > in_bytes[0])
                yield Sample(f"{op_name}:shared", k * work, in_bytes[shared] + k * (in_bytes[1 - shared] + out_bytes),
                             maker(stacked, dtypes, shared), batched, f"{label} k={k} shared", steps, member_bytes)


def _gather_samples(xp: Any, rng: np.random.Generator, max_elements: int) -> Iterable[Sample]:
    """The levels executor's copies (`depthgraph.executors.gathers`): half the rows of each of
    several slabs, in a random order — whole rows (runs as long as a row), or as many scattered
    elements (runs of one). Steps: the slabs read."""
    for rows in (2 ** i for i in range(1, 23, 3)):
        for width in (1, 64, 4096):
            for sources in GATHERED:
                if sources * rows * width > max_elements:
                    continue
                picked = max(rows // 2, 1)
                shape = (rows, width)
                slabs = lambda n=sources, r=shape: [_random(xp, rng, r, "float64", False) for _ in range(n)]
                where = np.split(rng.permutation(sources * picked), sources)  # each value's place in the result
                layouts = {"rows": [(s, where[s], rng.permutation(rows)[:picked] * width) for s in range(sources)]}
                if width > 1 and sources * picked * width <= SCATTERED_ELEMENTS:
                    scattered = (rng.permutation(rows * width)[:picked * width].reshape(picked, width) for _ in where)
                    layouts["scattered"] = [(s, where[s], positions) for s, positions in enumerate(scattered)]
                for layout, pieces in layouts.items():
                    copy = gathers.plan(width, pieces)
                    yield Sample("gather:copy", 0, copy.nbytes(8), slabs, lambda xp, a, c=copy: c.run(xp, a),
                                 f"rows={rows} width={width} sources={sources} {layout}", sources)


def _replay_copy_samples(xp: Any, rng: np.random.Generator, max_elements: int) -> Iterable[Sample]:
    """CUDA-graph replay's plain copies of the inputs into its buffers and of the outputs out of them."""
    for n in _POW2:
        if n <= max_elements:
            pair = lambda n=n: [xp.empty(n), _random(xp, rng, (n,), "float64", False)]
            yield Sample("copyto:buffer", 0, 2 * n * 8, pair,
                         lambda xp, a: copy_into(a[0], a[1], xp.cuda.get_current_stream()), f"copyto n={n}")


def samples(backend: str = "numpy", only: Sequence[str] | None = None, max_elements: int | None = None,
            seed: int = 0) -> list[Sample]:
    """The calibration footprints for ``backend``: ops in ``only`` (default all) and the ops of the
    overhead graphs (`OVERHEAD_OPS`), and the gathers.

    >>> kinds = {s.kind for s in samples("numpy", only=["matmul"], max_elements=4096)}
    >>> sorted(k for k in kinds if k.startswith(("matmul", "gather")))
    ['gather:copy', 'matmul:batched', 'matmul:dot', 'matmul:impl', 'matmul:shared']
    """
    xp = array_module(backend)
    max_elements = max_elements or (2 ** 24 if backend == "cupy" else 2 ** 22)
    rng = np.random.default_rng(seed)
    unknown = sorted(set(only or ()) - {name.split("#")[0] for name in _SPECIMENS})
    if unknown:
        raise ParameterError(f"no calibration specimen for op(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted({n.split('#')[0] for n in _SPECIMENS}))}")
    wanted = None if only is None else set(only) | OVERHEAD_OPS
    chosen = [n for n in _SPECIMENS if wanted is None or n.split("#")[0] in wanted]
    out = [s for name in chosen for s in _samples_of(name, xp, rng, max_elements)]
    out += _gather_samples(xp, rng, max_elements)
    return out + list(_replay_copy_samples(xp, rng, max_elements) if backend == "cupy" else [])


def _neighbour() -> Callable[[], Any]:
    """What each sampled call is timed beside in situ (module doc): the levels executor's own
    Python, running a graph of one 64-element add on NumPy — host work, no device call."""
    graph = vector_add(64)
    inputs = overhead_inputs(graph, np)
    return lambda: execute(graph, inputs, executor="levels")


# ------------------------------------------------------------------ the profile


def _versions(backend: str) -> dict[str, str]:
    names = ["depthgraph", "numpy", "dask", "distributed"] + (["cupy"] if backend == "cupy" else [])
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name if name != "cupy" else "cupy-cuda13x")
        except importlib.metadata.PackageNotFoundError:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "unknown")
    return out


def calibrate(backend: str = "numpy", only: Sequence[str] | None = None, max_elements: int | None = None,
              client: Any = None, progress: bool = True, trials: int = 7, min_samples: int = 5,
              seconds: float = OVERHEAD_SECONDS, in_situ: bool | None = None) -> Profile:
    """Time every op and gather on ``backend`` and fit a `Profile` (see the module doc).

    Parameters
    ----------
    backend : {"numpy", "cupy"}
    only : sequence of str, optional
        Calibrate these ops only (gathers are always included).
    max_elements : int, optional
        Largest operand sampled, in elements (default 2^24 on CuPy, 2^22 on NumPy).
    client : distributed.Client, optional
        Also fit the per-task overhead of this Dask cluster (``scheduler="distributed"``).
    progress : bool
        Show a progress bar on stderr.
    trials, min_samples : int
        Trials per footprint, and how many must survive outlier rejection.
    seconds : float
        The overhead graphs are timed round robin for at least this long (and `OVERHEAD_ROUNDS`
        rounds): long enough to span phases of the host's speed (`depthgraph.timing`).
    in_situ : bool, optional
        Time each call alternating with the executor's own Python, net of it (module doc, "In
        situ"); False: each call repeated alone in a loop. Default: in situ on CuPy, alone on NumPy.

    Examples
    --------
    >>> p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    >>> p.call("add", "impl").host.latency > 0, sorted(p.overheads)[:2]
    (True, ['dask-sync:byte', 'dask-sync:run'])
    """
    from tqdm import tqdm

    clock = Clock(backend)
    todo = samples(backend, only, max_elements)
    # On a GPU each footprint is timed again replayed from a CUDA graph, computed as a recording
    # computes it (`CapturableCupy`: its own kernels for small products and solves).
    capturable = CapturableCupy(clock.xp) if clock.gpu else None
    graphs = sum(len(overhead_graphs(kind)) for kind, _ in timing_kinds(clock.gpu, client))
    bar = tqdm(total=len(todo) + graphs + OVERHEAD_ROUNDS, disable=not progress, unit="step",
               desc="calibrating", leave=False)
    measured: dict[str, list[tuple[Sample, float, float, float | None]]] = {}
    in_situ = clock.gpu if in_situ is None else in_situ
    neighbour, neighbour_host, neighbour_device = None, 0.0, 0.0
    if in_situ:
        neighbour = _neighbour()
        reference = clock.reference()
        neighbour_host, neighbour_device = clock.measure(neighbour, trials, min_samples)
        neighbour_host /= reference  # relative to the host's speed, as each footprint's host time
    references = []  # the host's speed as each footprint is timed: its host time is kept relative to it
    for sample in todo:
        bar.set_postfix_str(sample.label, refresh=False)
        copies = sample.copies()
        references.append(clock.reference())
        call = sample.setup(clock.xp, copies)
        host, device = clock.measure((lambda: (call(), neighbour())) if neighbour else call, trials, min_samples)
        host, device = max(host / references[-1] - neighbour_host, 0.0), max(device - neighbour_device, 0.0)
        # a replayed graph varies far less than host-launched calls: fewer trials suffice
        replayed = (clock.replayed(sample.setup(capturable, copies), device, 3, 3)
                    if capturable is not None else None)
        del copies
        measured.setdefault(sample.kind, []).append((sample, host, device, replayed))
        bar.update()
    host_reference = float(np.median(references))  # host costs are fitted at this speed
    measurements = {kind: tuple(Measurement(s.label, s.footprint, s.work, s.nbytes, s.steps, relative * host_reference,
                                            device, replayed) for s, relative, device, replayed in rows)
                    for kind, rows in measured.items()}
    calls = fit_calls(measurements, clock.gpu)
    profile = Profile(backend, clock.device, _versions(backend), datetime.date.today().isoformat(), calls, {},
                      synchronous=not clock.gpu, host_reference=host_reference, measurements=measurements,
                      in_situ=in_situ)

    def step(label: str) -> None:
        bar.set_postfix_str(label, refresh=False)
        bar.update()

    timed = time_overhead_graphs(profile, clock, client, seconds, step)
    bar.close()
    return dataclasses.replace(profile, overheads=fit_overheads(profile, timed), overhead_timings=timed)


def refit(profile: Profile) -> Profile:
    """``profile`` fitted again by this version from what it keeps — its calls from its
    measurements (`depthgraph.cost.fit_calls`), then its overheads from its overhead graphs' times
    (`depthgraph.overheads.fit_overheads`) —, as `calibrate` would fit them: a change to the fits
    judged on a past calibration without the device.

    >>> p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    >>> refit(p) == p
    True
    """
    fitted = dataclasses.replace(profile, calls=fit_calls(profile.measurements, not profile.synchronous))
    return dataclasses.replace(fitted, overheads=fit_overheads(fitted, fitted.overhead_timings))

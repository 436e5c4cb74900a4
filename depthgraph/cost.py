"""The cost model: what one call of an executor costs on a device, fitted from measurements.

An executor's run is a sequence of *calls* (one op's implementation, one batched group call, one
gather). Each call costs the host some time (Python and the launch) and the device some time (the
kernels). On a GPU the two overlap — the host queues work and runs ahead — so a run costs
whichever timeline ends last (`depthgraph.predict` walks both). On NumPy the host *is* the
device: a call costs its host time only.

Each kind of call has a `CallModel`: two `Linear` models, ``latency + per_work · work +
per_byte · bytes`` for the host and for the device, fitted StarPU-style from samples taken at a
spread of shape footprints (`depthgraph.calibrate`) — one per band of footprints where one line
does not fit them all (`footprint_bands`: a library switching algorithms at some size). A
`Profile` holds the models of one device with the executors' own overheads (Python per node, per group, per Dask task) and records the
device name, library versions and date. It is saved as JSON.

A call kind is ``"op:form"``: ``impl`` (one node's op, as the eager executor and one-node
groups call it; ``dot`` for a matrix product with one element out,
`depthgraph.prediction.impl_form`), ``batched`` (a group of k nodes in one call), ``shared`` (a
batched call with an operand shared by the group — for matmul one GEMM), ``packed`` (a
concatenate of k·m operands); the levels executor's copying gathers are ``gather:copy``
(`depthgraph.executors.gathers`), their steps the slabs they read.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from depthgraph.errors import OutputError, ProfileError
from depthgraph.files import writable_path

FORMAT = 1  # version of the profile file layout
DEVICE_OVERHEADS = frozenset({"graphs:kernel"})  # the overheads that are device time, not the host's
DEVICE_TIMINGS = frozenset({"graphs"})  # overhead timings that are device-bound (replays), kept as measured


@dataclass(frozen=True)
class Linear:
    """``seconds = latency + per_step · steps + per_work · work + per_byte · bytes`` (every
    coefficient ≥ 0), where ``steps`` is the call's own depth: the op's span as the registry
    counts it (`depthgraph.ops.cost`; 1 for a copy). Brent's bound in a line — a kernel takes
    about its work over the machine's width plus its critical path — so that a small solve, whose
    d pivot steps cannot run side by side however large the batch, is not costed as its work.

    >>> round(Linear(1e-5, 1e-12, 1e-12).seconds(work=10**6, nbytes=2 * 10**6), 12)
    1.3e-05
    >>> round(Linear(1e-5, per_step=1e-7).seconds(work=0, nbytes=0, steps=80), 12)  # a 16×16 solve
    1.8e-05
    """

    latency: float = 0.0
    per_work: float = 0.0
    per_byte: float = 0.0
    per_step: float = 0.0

    def seconds(self, work: float, nbytes: float, steps: float = 1) -> float:
        return sum(self.split(work, nbytes, steps))

    def split(self, work: float, nbytes: float, steps: float = 1) -> tuple[float, float]:
        """``(latency part, throughput part)`` of `seconds`: depth costs the first (the latency and
        the steps), work the second."""
        return self.latency + self.per_step * steps, self.per_work * work + self.per_byte * nbytes

    def scaled(self, factor: float) -> Linear:
        """Every coefficient times ``factor``: the same work on a host ``factor`` times slower."""
        return Linear(self.latency * factor, self.per_work * factor, self.per_byte * factor, self.per_step * factor)


@dataclass(frozen=True)
class CallModel:
    """Host and device cost of one kind of call; ``samples`` footprints were fitted.

    ``graph`` is the device cost of the call replayed from a CUDA graph (back to back with other
    kernels, no host in between), where calibration could capture it; None where it could not
    (a cuBLAS or cuSOLVER call) or on NumPy.
    """

    host: Linear
    device: Linear = Linear()
    samples: int = 0
    graph: Linear | None = None


@dataclass(frozen=True)
class Measurement:
    """One footprint as calibration timed it — what a `CallModel` was fitted to (StarPU keeps such
    a history per footprint too): the op's footprint (the bytes one member of the call moves;
    None for a copy, `footprint_bands`), the call's work, bytes and steps, its per-call host
    seconds (at the profile's host speed, see `Profile`) and device seconds — if the profile is
    ``in_situ``, timed beside the executor's own Python and net of it (`depthgraph.calibrate`) —, and
    device seconds replayed from a CUDA graph (None: not captured)."""

    label: str
    footprint: int | None
    work: int
    nbytes: int
    steps: int
    host: float
    device: float = 0.0
    replayed: float | None = None


@dataclass(frozen=True)
class Profile:
    """Fitted cost models of one device, and the executors' own overheads.

    ``overheads`` holds seconds per unit: ``"eager:node"``, ``"eager:run"``, ``"levels:group"``,
    ``"levels:run"``, ``"dask-<scheduler>:task"``, ``"dask-<scheduler>:run"``,
    ``"dask-<scheduler>:byte"`` (per byte of inputs and outputs sent), and for CUDA-graph
    replay ``"graphs:launch"`` (host, per graph), ``"graphs:kernel"`` (device, per replayed call)
    and ``"graphs:run"``. Every overhead but those in `DEVICE_OVERHEADS` is host time.

    Host costs hold at one speed of the host: the one at which its reference
    (`depthgraph.timing.Clock.reference`) took ``host_reference`` seconds (0: not recorded);
    `at_host_speed` gives the profile for the host running faster or slower.

    ``measurements`` are the footprints each call kind was fitted to (`fit_calls` fits them again),
    ``overhead_timings`` the synthetic graphs' times the overheads were fitted to
    (`depthgraph.overheads.fit_overheads` fits them again).

    >>> p = Profile("numpy", "test CPU", {"numpy": "2"}, "2026-11-22",
    ...             {"add:impl": CallModel(Linear(1e-6, 1e-9))}, {"eager:node": 1e-6})
    >>> Profile.from_json(p.to_json()) == p
    True
    >>> p.call("exp", "impl")
    Traceback (most recent call last):
      ...
    depthgraph.errors.ProfileError: the profile has no model for op 'exp' (call kind 'exp:impl'); \
it covers add; calibrate with a version that includes it
    """

    backend: str
    device: str
    versions: dict[str, str]
    date: str
    calls: dict[str, CallModel]
    overheads: dict[str, float] = field(default_factory=dict)
    synchronous: bool = True  # True: host and device are one timeline (NumPy)
    host_reference: float = 0.0
    measurements: dict[str, tuple[Measurement, ...]] = field(default_factory=dict)
    in_situ: bool = False  # calls timed beside the executor's Python, net of it (`depthgraph.calibrate`)
    overhead_timings: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def call(self, op: str, form: str, footprint: int | None = None, *, replayed: bool = False) -> CallModel:
        """The model of ``op`` called in ``form`` on members of ``footprint`` bytes (`band_of`);
        if that form wasn't sampled, the op's ``impl`` form, else another of its forms.

        ``replayed``: the call replayed from a CUDA graph — no host cost, the `CallModel.graph`
        device cost — from the forms of ``op`` that have one; a `ProfileError` if none has.
        """
        bands = self._bands(replayed)
        kind = (next((k for k in (f"{op}:{form}", f"{op}:impl") if k in bands), None)  # most calls stop here
                or min((k for k in bands if k.split(":")[0] == op), default=None))
        if kind is None:
            covered = sorted({k.split(":")[0] for k in bands})
            raise ProfileError(f"the profile has no model for op {op!r} (call kind {f'{op}:{form}'!r}); it covers "
                               f"{', '.join(covered)}; calibrate with a version that includes it")
        calls = self.replayed_calls if replayed else self.calls
        return calls[band_of(bands[kind], footprint)]

    def _bands(self, replayed: bool) -> dict[str, list[tuple[int, str]]]:
        """``{kind: [(lower edge, key), ...]}`` in ascending edges: the footprint bands of each kind."""
        return self._replayed_bands if replayed else self._call_bands

    @functools.cached_property
    def _call_bands(self) -> dict[str, list[tuple[int, str]]]:
        return _index_bands(self.calls)

    @functools.cached_property
    def _replayed_bands(self) -> dict[str, list[tuple[int, str]]]:
        return _index_bands(self.replayed_calls)

    def replays(self, op: str) -> bool:
        """Whether calibration captured some form of ``op`` into a CUDA graph (see `call`)."""
        return any(kind.split(":")[0] == op for kind in self.replayed_calls)

    @functools.cached_property
    def replayed_calls(self) -> dict[str, CallModel]:
        """The call kinds calibration captured, each modelled as replayed: no host cost, its graph
        cost on the device. A `ProfileError` if there are none (a NumPy or older profile)."""
        calls = {kind: CallModel(Linear(), m.graph) for kind, m in self.calls.items() if m.graph is not None}
        if not calls:
            raise ProfileError("the profile has no CUDA-graph models: calibrate with --backend cupy "
                               "(with this version) to predict cuda_graph=True")
        return calls

    def at_host_speed(self, factor: float) -> Profile:
        """This profile for the host running ``factor`` times slower than at calibration (as
        `depthgraph.overheads.host_speed` measures it): every host cost (call models' host parts,
        overheads but `DEVICE_OVERHEADS`, and the host times they were fitted to) times
        ``factor``; device costs unchanged.

        >>> p = Profile("cupy", "GPU", {}, "", {"add:impl": CallModel(Linear(1e-5), Linear(2e-6))},
        ...             {"levels:group": 4e-6, "graphs:kernel": 2e-7}, synchronous=False, host_reference=1e-3)
        >>> q = p.at_host_speed(2.0)  # the host twice as slow: its costs double, the device's do not
        >>> q.call("add", "impl").host.latency, q.call("add", "impl").device.latency, q.overheads
        (2e-05, 2e-06, {'levels:group': 8e-06, 'graphs:kernel': 2e-07})
        """
        if not factor > 0 or not np.isfinite(factor):
            raise ProfileError(f"a host speed is a positive factor, got {factor!r}")
        calls = {kind: replace(m, host=m.host.scaled(factor)) for kind, m in self.calls.items()}
        overheads = {name: seconds * (1.0 if name in DEVICE_OVERHEADS else factor)
                     for name, seconds in self.overheads.items()}
        measurements = {kind: tuple(replace(m, host=m.host * factor) for m in rows)
                        for kind, rows in self.measurements.items()}
        timings = {kind: tuple(t * (1.0 if kind in DEVICE_TIMINGS else factor) for t in times)
                   for kind, times in self.overhead_timings.items()}
        return replace(self, calls=calls, overheads=overheads, host_reference=self.host_reference * factor,
                       measurements=measurements, overhead_timings=timings)

    def overhead(self, name: str) -> float:
        """Seconds of executor overhead ``name``; a clear error if the profile lacks it."""
        if name not in self.overheads:
            raise ProfileError(f"the profile has no overhead {name!r} (it has {', '.join(sorted(self.overheads))}); "
                               f"calibrate that executor")
        return self.overheads[name]

    def to_json(self) -> str:
        data = asdict(self)
        data["format"] = FORMAT
        return json.dumps(data, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        try:
            data = json.loads(text)
            if data.pop("format", None) != FORMAT:
                raise ProfileError(f"profile format is not {FORMAT}: recalibrate")
            calls = {kind: CallModel(Linear(**m["host"]), Linear(**m["device"]), m["samples"],
                                     Linear(**m["graph"]) if m.get("graph") else None)
                     for kind, m in data.pop("calls").items()}
            measurements = {kind: tuple(Measurement(**m) for m in rows)
                            for kind, rows in data.pop("measurements", {}).items()}
            timings = {kind: tuple(times) for kind, times in data.pop("overhead_timings", {}).items()}
            return cls(calls=calls, measurements=measurements, overhead_timings=timings, **data)
        except ProfileError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise ProfileError(f"not a depthgraph profile: {exc}") from None

    def save(self, path: str | Path) -> None:
        """Write the profile as JSON to ``path``, making its folder (`depthgraph.files.writable_path`)."""
        target = writable_path(path, "profile")
        try:
            target.write_text(self.to_json())
        except OSError as exc:
            raise OutputError(f"cannot write profile {str(path)!r}: {exc.strerror}") from None

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        """Read a profile written by `save` (or ``depthgraph calibrate``)."""
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ProfileError(f"cannot read profile {str(path)!r}: {exc.strerror}") from None
        return cls.from_json(text)


def nnls(matrix: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Non-negative least squares for a few columns: the best unconstrained fit over every subset
    of columns whose solution is non-negative (exact, and cheap for ≤ 4 columns).

    >>> nnls(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([2.0, -1.0]))
    array([2., 0.])
    """
    scale = np.abs(matrix).max(axis=0)
    scale[scale == 0] = 1.0
    columns = matrix / scale  # columns of one magnitude: work and bytes reach 10^9, latency 1
    best, best_residual = np.zeros(matrix.shape[1]), float(np.sum(target ** 2))
    subsets = itertools.chain.from_iterable(itertools.combinations(range(matrix.shape[1]), r)
                                            for r in range(1, matrix.shape[1] + 1))
    for used in subsets:
        coef, *_ = np.linalg.lstsq(columns[:, used], target, rcond=None)
        if (coef < 0).any():
            continue
        full = np.zeros(matrix.shape[1])
        full[list(used)] = coef
        residual = float(np.sum((columns @ full - target) ** 2))
        if residual < best_residual - 1e-12 * max(best_residual, 1.0):
            best, best_residual = full, residual
    return best / scale


def fit_linear(work: Sequence[float], nbytes: Sequence[float], seconds: Sequence[float],
               steps: Sequence[float] | None = None) -> Linear:
    """Fit `Linear` to samples by `nnls`, in *relative* error; ``per_step`` only if ``steps`` are given.

    Relative error, because samples span microseconds to milliseconds and each should count alike.
    A sample of 0 s (a cost within the noise of what calibration subtracts) has no relative
    error to weigh and is left out; with none left the model is 0.

    >>> w = np.array([1e3, 1e4, 1e5, 1e6]); b = 8 * w
    >>> m = fit_linear(w, b, 2e-6 + 3e-10 * w)
    >>> round(m.latency * 1e6, 6), round(m.per_work * 1e10 + m.per_byte * 8e10, 6)
    (2.0, 3.0)
    """
    w, b, t = (np.asarray(v, dtype=float) for v in (work, nbytes, seconds))
    features = [np.ones_like(t), w, b] + ([np.asarray(steps, dtype=float)] if steps is not None else [])
    timed = t > 0
    if not timed.any():
        return Linear()
    columns = np.stack(features, axis=1)[timed] / t[timed, None]  # rows scaled by 1/t: relative error
    return Linear(*map(float, nnls(columns, np.ones(len(columns)))))


BAND_TOLERANCE = 0.2  # a call kind's fit is cut into footprint bands while a measurement is off it by more
MIN_BAND = 2  # measurements a band is fitted to, at least


def fit_calls(measurements: dict[str, Sequence[Measurement]], gpu: bool) -> dict[str, CallModel]:
    """A `CallModel` per call kind and band of footprints (`footprint_bands`, cut by the device's
    time on a GPU, the host's on NumPy), each fitted to its measurements by `fit_linear`: the
    host's cost on work and bytes; on a GPU the device's — and the replayed one's, where some
    footprint was captured — on its steps too (a call's Python does not follow the op's depth,
    its kernels do). A copy's host cost (footprint None) is fitted on its steps too: a gather
    lists, in Python, each slab it reads on every call (`depthgraph.executors.gathers`), and on
    an H200 one of 256 slabs cost the host twice one of 1 or 2 — fitted on bytes alone, the many
    slabs were charged to the bytes they came with. A band from ``edge`` bytes up is keyed
    ``kind@edge`` (`Profile.call`).

    >>> rows = [Measurement(f"n={n}", 8 * n, n, 8 * n, 1, 1e-5, 2e-6 + 1e-12 * n) for n in (10**3, 10**5, 10**7)]
    >>> m = fit_calls({"add:impl": rows}, gpu=True)["add:impl"]
    >>> round(m.host.latency * 1e6, 6), round(m.device.seconds(10**6, 8 * 10**6) * 1e6, 6), m.graph
    (10.0, 3.0, None)
    """
    calls = {}
    timed = (lambda m: m.device) if gpu else (lambda m: m.host)
    for kind, rows in measurements.items():
        for edge, band in footprint_bands(rows, timed, steps=gpu):
            captured = [m for m in band if m.replayed is not None]
            calls[kind if edge == 0 else f"{kind}@{edge}"] = CallModel(
                _fit(band, lambda m: m.host, steps=band[0].footprint is None),  # copies: see above
                _fit(band, lambda m: m.device, steps=True) if gpu else Linear(), len(band),
                _fit(captured, lambda m: m.replayed, steps=True) if captured else None)
    return calls


def footprint_bands(rows: Sequence[Measurement], seconds: Callable[[Measurement], float], steps: bool
                    ) -> list[tuple[int, list[Measurement]]]:
    """``rows`` cut into bands of footprints, each to be fitted on its own (``seconds`` by
    `fit_linear`, on ``steps`` too if asked): ``[(lower edge, rows)]``,
    the first edge 0, the others between the footprints either side (their geometric mean).

    One line fits an op's cost over its footprints only while one algorithm runs them: CuPy
    solves a batch of matrices up to 256×256 in one batched LU, whose time grows with d² for
    any batch, and larger ones one matrix at a time. So while some measurement's ``seconds``
    is off the band's fit by more than `BAND_TOLERANCE`, the band is cut between two
    footprints where its halves fit best (least squared relative error), each keeping
    `MIN_BAND` measurements. Copies (footprint None) are one band: a copy runs one kernel
    whatever its size, and its time varies with its layout, not with its bytes alone (cutting
    gathers by bytes fitted bands to a few unrepresentative layouts).

    >>> rows = [Measurement(f"d={d}", d, d, d, 1, 0.0, 1e-5 * (1 if d < 100 else 10)) for d in (1, 10, 1000, 10000)]
    >>> [(edge, [m.label for m in band]) for edge, band in footprint_bands(rows, lambda m: m.device, True)]
    [(0, ['d=1', 'd=10']), (100, ['d=1000', 'd=10000'])]
    """
    if any(m.footprint is None for m in rows):
        return [(0, list(rows))]

    def cut(band: list[Measurement]) -> list[list[Measurement]]:
        cuts = [i for i in range(MIN_BAND, len(band) - MIN_BAND + 1) if band[i - 1].footprint < band[i].footprint]
        if not cuts or np.abs(_errors(band, seconds, steps)).max() <= BAND_TOLERANCE:
            return [band]
        best = min(cuts, key=lambda i: sum(float(np.sum(_errors(half, seconds, steps) ** 2))
                                           for half in (band[:i], band[i:])))
        return cut(band[:best]) + cut(band[best:])

    bands = cut(sorted(rows, key=lambda m: m.footprint))
    edges = [0] + [round(float(np.sqrt(lower[-1].footprint * upper[0].footprint)))
                   for lower, upper in zip(bands, bands[1:])]
    return list(zip(edges, bands))


def _fit(rows: Sequence[Measurement], seconds: Callable[[Measurement], float], steps: bool) -> Linear:
    return fit_linear([m.work for m in rows], [m.nbytes for m in rows], [seconds(m) for m in rows],
                      [m.steps for m in rows] if steps else None)


def _errors(rows: Sequence[Measurement], seconds: Callable[[Measurement], float], steps: bool) -> np.ndarray:
    """Relative errors of ``rows``' fit (`_fit`)."""
    model = _fit(rows, seconds, steps)
    times = np.array([seconds(m) for m in rows])
    predicted = np.array([model.seconds(m.work, m.nbytes, m.steps) for m in rows])
    return np.divide(predicted - times, times, out=np.zeros_like(times), where=times > 0)


def _index_bands(calls: dict[str, CallModel]) -> dict[str, list[tuple[int, str]]]:
    """``{kind: [(lower edge, key), ...]}``, edges ascending, from keys ``kind`` and ``kind@edge``."""
    index: dict[str, list[tuple[int, str]]] = {}
    for key in calls:
        kind, _, edge = key.partition("@")
        index.setdefault(kind, []).append((int(edge or 0), key))
    return {kind: sorted(bands) for kind, bands in index.items()}


def band_of(bands: Sequence[tuple[int, str]], footprint: int | None) -> str:
    """The key of the band holding ``footprint``: the last whose lower edge is at most it (else,
    or for None, the first).

    >>> band_of([(0, "solve:batched"), (1048576, "solve:batched@1048576")], 2 ** 21)
    'solve:batched@1048576'
    """
    chosen = bands[0][1]
    for edge, key in bands:
        if footprint is not None and edge <= footprint:
            chosen = key
    return chosen

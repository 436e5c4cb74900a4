"""The algorithm registry: name -> `Algorithm` (a graph builder, an input maker, default sizes)."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

import depthgraph

_REGISTRY: dict[str, Algorithm] = {}


@dataclass(frozen=True)
class Algorithm:
    """One algorithm: ``build(**params)`` gives its graph, ``inputs(seed, **params)`` test data.

    A parameter is a size (an int >= 1) or, where its default is a bool, a switch (such as an
    optional extra output); unknown or out-of-range parameters raise `depthgraph.ParameterError`.
    The builder's docstring gives the recurrence, work and span. ``checker(inputs, **params)``,
    if given, inspects input values before `run` executes the graph (raising or warning where
    the algorithm would overflow or lose precision on them).
    """

    name: str
    builder: Callable[..., depthgraph.Graph]
    input_maker: Callable[..., dict[str, np.ndarray]]
    defaults: Mapping[str, int | bool] = field(default_factory=dict)
    checker: Callable[..., None] | None = None

    @property
    def doc(self) -> str:
        return self.builder.__doc__ or ""

    def params(self, **given: Any) -> dict[str, int]:
        """The defaults updated with ``given``, each checked to be an int >= 1."""
        unknown = sorted(set(given) - set(self.defaults))
        if unknown:
            raise depthgraph.ParameterError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}; it takes {', '.join(self.defaults)}"
            )
        params = {**self.defaults, **given}
        for key, value in params.items():
            if isinstance(self.defaults[key], bool):
                if not isinstance(value, (bool, np.bool_)):
                    raise depthgraph.ParameterError(f"{self.name}: {key} must be True or False, got {value!r}")
            elif isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
                raise depthgraph.ParameterError(f"{self.name}: {key} must be an int >= 1, got {value!r}")
        return {key: type(self.defaults[key])(value) for key, value in params.items()}

    def build(self, **params: Any) -> depthgraph.Graph:
        """The algorithm's graph at the given sizes (defaults for the rest)."""
        params = self.params(**params)
        # A build allocates ~10^5-10^6 nodes, none of them garbage: pausing the cyclic collector
        # keeps it from rescanning them all, which otherwise takes about half the build time.
        paused = gc.isenabled()
        gc.disable()
        try:
            return self.builder(**params)
        finally:
            if paused:
                gc.enable()

    def inputs(self, seed: int = 0, **params: Any) -> dict[str, np.ndarray]:
        """Well-conditioned float64 inputs for the graph of the same sizes."""
        return self.input_maker(np.random.default_rng(seed), **self.params(**params))

    def run(self, inputs: dict[str, Any], executor: str = "eager", backend: str = "numpy",
            **params: Any) -> dict[str, Any]:
        """Check ``inputs`` with the algorithm's checker, then build and execute its graph.

        >>> spec = get("recurrence")
        >>> y = spec.run(spec.inputs(seed=0, L=3), L=3)["y"]
        >>> y.shape
        (3,)
        """
        params = self.params(**params)
        if self.checker is not None:
            self.checker(inputs, **params)
        return depthgraph.execute(self.builder(**params), inputs, executor=executor, backend=backend)


def register(name: str, inputs: Callable[..., dict[str, np.ndarray]], checker: Callable[..., None] | None = None,
             **defaults: int | bool) -> Callable:
    """Decorator: register the decorated graph builder as algorithm ``name``.

    ``inputs(rng, **params)`` makes test inputs; ``defaults`` are the parameters and their
    default values (sizes as ints, switches as bools); ``checker`` is as in `Algorithm`.
    """

    def wrap(builder: Callable[..., depthgraph.Graph]) -> Callable[..., depthgraph.Graph]:
        known = _REGISTRY.get(name)
        # The same builder may be registered again when its module is imported twice (as
        # pytest's importlib mode does); a different builder under a taken name is a mistake.
        if known and (known.builder.__module__, known.builder.__qualname__) != (builder.__module__, builder.__qualname__):
            raise ValueError(f"algorithm {name!r} is registered twice")
        _REGISTRY[name] = Algorithm(name, builder, inputs, MappingProxyType(dict(defaults)), checker)
        return builder

    return wrap


def names() -> list[str]:
    """Names of the registered algorithms, in registration order.

    >>> "recurrence" in names()
    True
    """
    return list(_REGISTRY)


def get(name: str) -> Algorithm:
    """The algorithm called ``name``; `depthgraph.ParameterError` lists the known ones otherwise.

    >>> get("recurrence").params(L=8)
    {'L': 8, 'n': 4}
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise depthgraph.ParameterError(f"unknown algorithm {name!r}; choose from {', '.join(_REGISTRY)}") from None

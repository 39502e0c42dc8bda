"""The baseline registry: a name -> how to build it, which inputs it applies to, what to tune.

A baseline is registered with the :func:`register` decorator on a *builder*, a function
``build(seed=0, **params) -> (estimator, params_record)`` that returns a fresh estimator and
the complete dict of settings the results file records::

    @register("br-lr", kind="features", grid=[{"C": c} for c in (0.01, 0.1, 1.0, 10.0)])
    def br_lr(seed=0, C=1.0, max_iter=1000, standardize=True):
        params = {"C": C, "max_iter": max_iter, "standardize": standardize}
        return BinaryRelevance(**params), params

``kind`` is the dataset kind it runs on (``MultiLabelDataset.kind``: ``"features"``,
``"text"`` or ``"image"``); ``grid`` lists the hyper-parameter settings the tuned variant chooses among on the
validation split (:func:`zoo.baselines.runner.tune_baseline`); the builder's own defaults are
the untuned variant. ``untuned=False`` registers a baseline that only has a tuned row.

Example::

    >>> from zoo.baselines import registry
    >>> spec = registry.get("mlknn")
    >>> spec.kind, [g["k"] for g in spec.grid]
    ('features', [5, 10, 20])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["BaselineSpec", "register", "get", "names", "KINDS"]

#: Dataset kinds (``MultiLabelDataset.kind``). ``"image"`` baselines run a feature estimator on
#: a frozen backbone's pooled features (:class:`zoo.baselines.estimators.BackboneFeatures`).
KINDS = ("features", "text", "image")


@dataclass(frozen=True)
class BaselineSpec:
    """One registered baseline (see the module docstring)."""
    name: str
    kind: str
    build: Callable
    grid: tuple = field(default_factory=tuple)
    untuned: bool = True
    description: str = ""

    def make(self, seed: int = 0, **params):
        """A fresh ``(estimator, params_record)`` with ``params`` over the builder's defaults."""
        return self.build(seed=seed, **params)


_REGISTRY: dict[str, BaselineSpec] = {}


def register(name: str, *, kind: str, grid=(), untuned: bool = True):
    """Decorator: register ``build`` as baseline ``name`` (see the module docstring).

    Raises ValueError for a second registration of ``name``, an unknown ``kind`` or a grid
    entry that is not a dict.
    """
    if kind not in KINDS:
        raise ValueError(f"baseline {name!r}: kind must be one of {KINDS}, got {kind!r}")
    grid = tuple(dict(g) for g in grid)
    if not all(isinstance(g, dict) for g in grid):
        raise ValueError(f"baseline {name!r}: grid entries must be dicts of parameters")

    def deco(build):
        if name in _REGISTRY:
            raise ValueError(f"baseline {name!r} is already registered")
        doc = (build.__doc__ or "").strip().split("\n\n")[0]
        _REGISTRY[name] = BaselineSpec(name, kind, build, grid, untuned, " ".join(doc.split()))
        return build
    return deco


def get(name: str) -> BaselineSpec:
    """The registered baseline ``name``; ValueError listing the known names otherwise.
    (:mod:`zoo.baselines.catalog` registers the zoo's; importing :mod:`zoo.baselines` loads it.
    This module imports no catalog: that would be an import cycle.)"""
    if name not in _REGISTRY:
        raise ValueError(f"unknown baseline {name!r}; known: {list(_REGISTRY)}")
    return _REGISTRY[name]


def names(kind: str | None = None, untuned: bool | None = None) -> tuple:
    """Registered names (registration order), optionally of one ``kind`` / with an untuned
    variant (``untuned=True``)."""
    return tuple(n for n, s in _REGISTRY.items()
                 if (kind is None or s.kind == kind) and (untuned is None or s.untuned == untuned))

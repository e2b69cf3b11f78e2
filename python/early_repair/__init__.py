"""early_repair: Arachne-style repair of a classifier's last layer, from Python.

The repair core of the early-repair Rust workspace (fault localisation, the study's
fitness, its PSO, Arachne v2's DE, adaptive and history-based repair; Qual_alpha, the
pre/post-convergence patterns and Table 1) on numpy arrays. Activations are the
penultimate layer's outputs (what the last dense layer multiplies), one row per input.

    >>> import early_repair as er
    >>> result = er.repair(act_neg, y_neg, act_pos, y_pos, weight, bias, layout="torch")
    >>> model.fc.weight.data = torch.from_numpy(result.weight)

`weight` is in the layout you name: ``"keras"`` (width, classes) or ``"torch"``
(classes, width), never transposed by guess. Arrays are converted to float32 / int64;
labels must be integers. A wrong shape, a NaN, a label outside the layer or an empty set
raises ``ValueError`` naming the argument.

``repair`` runs the same Rust function as ``cargo xtask repair --problem FILE``, so the
same inputs and seed give the same weights (``save_problem`` writes such a file).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from . import _core

# The defaults of repair() and localise(), from the Rust side (one set of defaults).
_DEFAULTS = _core.DEFAULTS

__all__ = [
    "RepairResult",
    "localise",
    "repair",
    "qual",
    "classify_pattern",
    "table1",
    "save_problem",
    "load_problem",
    "save_layer",
    "synthetic_problem",
    "PAPER_ALPHAS",
]

#: The study's three alphas.
PAPER_ALPHAS = (0.2, 0.5, 0.8)


def _floats(name: str, x: Any, ndim: int) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name}: want numbers, got an array of {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name}: want {ndim} dimensions, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _labels(name: str, y: Any) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{name}: want a vector of labels, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name}: labels must be integers, got {a.dtype}")
    if a.size and a.dtype.kind == "u" and a.max() > np.iinfo(np.int64).max:
        # int64 would wrap it to a negative number; say what was given.
        at = int(np.argmax(a > np.iinfo(np.int64).max))
        raise ValueError(f"{name}[{at}] = {int(a[at])}, not a class of the layer")
    return np.ascontiguousarray(a, dtype=np.int64)


def _seed(name: str, value: Any) -> int:
    """A seed as the Rust side takes it (0 to 2**64 - 1), or a ValueError naming the
    argument (instead of a bare OverflowError from the conversion)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: want an integer seed, got {type(value).__name__}")
    if not 0 <= int(value) < 2**64:
        raise ValueError(f"{name}={int(value)}: a seed is a whole number from 0 to 2**64 - 1")
    return int(value)


def _sites(sites: Any) -> Optional[np.ndarray]:
    if sites is None:
        return None
    a = np.asarray(sites)
    if a.ndim != 2:
        raise ValueError(f"sites: want (K, 2) of (i, j), got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"sites: want integers, got {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int64)


@dataclass(frozen=True)
class RepairResult:
    """What a repair found; ``weight`` and ``bias`` are the repaired last layer (in the
    layout given), ``sites`` the weights searched as (i, j) rows (i: input, j: class).
    ``kept_original``: the search did not beat the given layer, which ``weight`` and
    ``bias`` then are (``fitness_before`` is its fitness, ``fitness_after`` the search's
    best)."""

    weight: np.ndarray
    bias: np.ndarray
    sites: np.ndarray
    fitness_before: float
    fitness_after: float
    kept_original: bool
    rr: float
    br: float
    evaluations: int
    time_ms: float
    method: str
    termination: str
    history: list = field(repr=False)
    details: dict = field(repr=False)

    @property
    def rr_negatives(self) -> float:
        """RR on the negatives given: the share the repaired layer classifies right."""
        return self.rr


def localise(
    act_neg: Any,
    y_neg: Any,
    weight: Any,
    bias: Any,
    *,
    layout: str = "keras",
    method: str = "arachne",
    n_sites: int = _DEFAULTS["n_sites"],
    cross_entropy: str = "logits",
    seed: int = 0,
) -> np.ndarray:
    """The weights fault localisation blames for the negatives, as (K, 2) int64 rows of
    (i, j). ``method``: ``"arachne"`` (Arachne v1's Pareto front of gradient loss and
    forward impact, the study's), ``"gradient"`` (top ``n_sites`` by gradient loss) or
    ``"random"`` (``n_sites`` seeded random weights)."""
    return _core.localise(
        _floats("act_neg", act_neg, 2),
        _labels("y_neg", y_neg),
        _floats("weight", weight, 2),
        _floats("bias", bias, 1),
        layout=layout,
        localiser=method,
        n_sites=int(n_sites),
        cross_entropy=cross_entropy,
        seed=_seed("seed", seed),
    )


def repair(
    act_neg: Any,
    y_neg: Any,
    act_pos: Any,
    y_pos: Any,
    weight: Any,
    bias: Any,
    sites: Any = None,
    method: str = "arachne",
    seed: int = 0,
    particles: int = _DEFAULTS["particles"],
    iterations: int = _DEFAULTS["iterations"],
    *,
    layout: str = "keras",
    search_seed: Optional[int] = None,
    localiser: str = "arachne",
    n_sites: int = _DEFAULTS["n_sites"],
    cross_entropy: str = "logits",
    search: str = "arachne",
    window: int = _DEFAULTS["window"],
    threshold: float = _DEFAULTS["threshold"],
    max_phases: int = _DEFAULTS["max_phases"],
    penalty: float = _DEFAULTS["penalty"],
    earlier_weight: Any = None,
    earlier_bias: Any = None,
    keep_worse: bool = False,
) -> RepairResult:
    """Repairs a last layer so that the negatives (``act_neg``, ``y_neg``: inputs it
    gets wrong) are classified right while the positives (``act_pos``, ``y_pos``) stay
    right: fault localisation (``localiser``; skipped when ``sites`` are given) picks
    weights, the search changes them to maximise the study's fitness.

    ``method``: ``"arachne"`` (the study: the PSO ``search``, ``particles`` ×
    ``iterations``), ``"de"`` (Arachne v2's differential evolution, population
    ``particles``, ``iterations`` generations), ``"adaptive"`` (PSO phases localised again
    when the best stagnates for ``window`` iterations by less than ``threshold``; Li
    Calsi et al.) or ``"history"`` (the ``n_sites`` weights that moved most since
    ``earlier_weight`` times their gradient loss, with a price ``penalty`` per broken
    positive; after NeuRecover). ``seed`` seeds random FL and, unless ``search_seed`` is
    given, the search. The GIL is released while it runs.

    Never worse than what you gave it: when the search's best does not beat the given
    layer on the search's own objective (Arachne's swarm never holds the original
    weights, so it can end below it), the given layer comes back unchanged with
    ``kept_original`` true, ``fitness_after`` still the search's best and ``rr``/``br``
    the given layer's. ``keep_worse=True`` returns the search's best regardless, as the
    study's code does.
    """
    earlier = (None, None)
    if earlier_weight is not None or earlier_bias is not None:
        if earlier_weight is None or earlier_bias is None:
            raise ValueError("earlier_weight and earlier_bias come together")
        earlier = (_floats("earlier_weight", earlier_weight, 2), _floats("earlier_bias", earlier_bias, 1))
    out = _core.repair(
        _floats("act_neg", act_neg, 2),
        _labels("y_neg", y_neg),
        _floats("act_pos", act_pos, 2),
        _labels("y_pos", y_pos),
        _floats("weight", weight, 2),
        _floats("bias", bias, 1),
        sites=_sites(sites),
        layout=layout,
        method=method,
        seed=_seed("seed", seed),
        search_seed=None if search_seed is None else _seed("search_seed", search_seed),
        particles=int(particles),
        iterations=int(iterations),
        localiser=localiser,
        n_sites=int(n_sites),
        cross_entropy=cross_entropy,
        search=search,
        window=int(window),
        threshold=float(threshold),
        max_phases=int(max_phases),
        penalty=float(penalty),
        earlier_weight=earlier[0],
        earlier_bias=earlier[1],
        keep_worse=bool(keep_worse),
    )
    return RepairResult(
        weight=out["weight"],
        bias=out["bias"],
        sites=out["sites"],
        fitness_before=out["fitness_before"]["fitness"],
        fitness_after=out["fitness_after"]["fitness"],
        kept_original=out["kept_original"],
        rr=out["rr"],
        br=out["br"],
        evaluations=out["evaluations"],
        time_ms=out["fl_ms"] + out["search_ms"],
        method=out["method"],
        termination=out["termination"],
        history=out["history"],
        details=out,
    )


def qual(alpha: float, acc_cls: float, acc_total: float) -> float:
    """Qual_alpha = alpha * acc_cls + (1 - alpha) * acc_total (the study's quality of a
    model for one class)."""
    return _core.qual(float(alpha), float(acc_cls), float(acc_total))


def classify_pattern(
    quals: Mapping[int, Optional[float]] | Iterable[tuple],
    converged_epoch: int,
    ties: str = "post",
    incomplete: str = "mark",
) -> dict:
    """The pattern of one (run, class, alpha): ``quals`` maps each repaired checkpoint's
    epoch to its repaired Qual (``None`` for a missing repair). Returns ``pattern``
    (``pre-convergence``, ``post-convergence``, ``after-convergence`` or
    ``incomplete``), ``best_epoch``, ``best_qual``, ``converged_qual`` and
    ``early_gain`` (best before convergence minus converged)."""
    items = quals.items() if isinstance(quals, Mapping) else quals
    pairs = [(int(e), None if q is None or (isinstance(q, float) and math.isnan(q)) else float(q)) for e, q in items]
    return _core.classify_pattern(pairs, int(converged_epoch), ties, incomplete)


def _rows_csv(rows: Any) -> str:
    """``repairs.csv`` text of a list of dicts, a pandas-like table or a CSV path."""
    if isinstance(rows, (str, bytes)) or hasattr(rows, "__fspath__"):
        with open(rows, newline="", encoding="utf-8") as f:
            return f.read()
    if hasattr(rows, "to_dict"):  # pandas / polars-like
        try:
            rows = rows.to_dict("records")
        except TypeError:
            rows = rows.to_dicts()
    rows = list(rows)
    columns: list = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        if isinstance(v, (float, np.floating)):
            return repr(float(v))
        return str(v)

    for r in rows:
        w.writerow([cell(r.get(c)) for c in columns])
    return out.getvalue()


def _number(text: str) -> Any:
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def table1(
    rows: Any,
    alphas: Sequence[float] = PAPER_ALPHAS,
    ties: str = "post",
    incomplete: str = "mark",
) -> list:
    """Table 1 of repair rows, as ``cargo xtask report`` makes it (the same rows
    accepted, the same checks and numbers): one dict per (dataset, method, alpha) with
    the columns of ``table1.csv``. ``rows``: a list of dicts, a pandas DataFrame or a
    path to a ``repairs.csv``. The study's columns are required (``dataset, model, run,
    target_class, epoch, converged_epoch, base_acc_total, base_acc_cls,
    repaired_acc_total, repaired_acc_cls``); every other one is optional."""
    text = _core.table1_csv(_rows_csv(rows), [float(a) for a in alphas], ties, incomplete)
    reader = csv.DictReader(io.StringIO(text))
    return [{k: _number(v) for k, v in r.items()} for r in reader]


def save_problem(path, act_neg, y_neg, act_pos, y_pos, weight, bias, *, layout: str = "keras", sites: Any = None) -> None:
    """Writes a problem file for ``cargo xtask repair --problem`` (safetensors; the
    schema is in the README)."""
    _core.save_problem(
        str(path),
        _floats("act_neg", act_neg, 2),
        _labels("y_neg", y_neg),
        _floats("act_pos", act_pos, 2),
        _labels("y_pos", y_pos),
        _floats("weight", weight, 2),
        _floats("bias", bias, 1),
        layout=layout,
        sites=_sites(sites),
    )


def load_problem(path) -> dict:
    """Reads a problem file: ``act_neg, y_neg, act_pos, y_pos, weight, bias, layout,
    sites`` (``weight`` in the file's layout; ``sites`` ``None`` when it names none)."""
    return _core.load_problem(str(path))


def save_layer(path, weight, bias, *, layout: str = "keras") -> None:
    """Writes a last layer as ``repaired.safetensors`` does (``kernel`` or ``weight``,
    and ``bias``)."""
    _core.save_layer(str(path), _floats("weight", weight, 2), _floats("bias", bias, 1), layout=layout)


def synthetic_problem(**spec) -> dict:
    """A seeded GTSRB-like problem (the Rust benchmarks' own, default width 512, 43
    classes, 60 negatives, 200 positives, 10 sites): ``act_neg, y_neg, act_pos, y_pos,
    weight`` (Keras layout), ``bias``, ``sites``."""
    return _core.synthetic_problem(**spec)

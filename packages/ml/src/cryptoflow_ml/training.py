"""Train, validate and choose: both candidates go through the same walk-forward folds; the one with the
lower walk-forward log loss is fitted on every labelled row and becomes the model. `beats_baselines` says
whether its walk-forward log loss is below the best naive baseline's.

On a random walk (the simulator's prices) nothing beats the base rate, and the result says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cryptoflow_ml.features import FEATURES, FeatureFrame, FloatArray, features_sha256
from cryptoflow_ml.models import (
    ALGORITHMS,
    HYPERPARAMETERS,
    SEED,
    Classifier,
    dump_model,
    fit,
    library_versions,
    probability_up,
)
from cryptoflow_ml.validation import METRICS, NotEnoughData, WalkForward, walk_forward, walk_forward_folds

# Said next to every prediction (the registry keeps it with the model; the API shows it).
HONESTY_NOTE = (
    "Short-term price direction is close to unpredictable. On the simulator, prices are a random walk, so "
    "no model can have real skill there; beats_baselines=false means this model did not beat the best naive "
    "baseline (always-up, last-direction, the training base rate) in walk-forward validation, and its "
    "probability should be read as no better than the base rate."
)


@dataclass(frozen=True)
class TrainingResult:
    interval: str
    algorithm: str
    model: Classifier
    artifact: bytes
    artifact_sha256: str
    features: tuple[str, ...]
    features_sha256: str
    hyperparameters: dict[str, Any]
    library_versions: dict[str, str]
    metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    candidates: dict[str, Any]
    beats_baselines: bool
    best_baseline: str
    train_start_ms: int
    train_end_ms: int
    n_rows: int
    markets: list[str] = field(default_factory=list)


def _fitter(algorithm: str, seed: int) -> Callable[[FeatureFrame], Callable[[FeatureFrame], FloatArray]]:
    def fit_fold(train: FeatureFrame) -> Callable[[FeatureFrame], FloatArray]:
        model = fit(algorithm, train.x, train.y, seed=seed)
        return lambda test: probability_up(model, test.x)

    return fit_fold


def train(
    frame: FeatureFrame,
    *,
    interval: str,
    algorithms: Sequence[str] = ALGORITHMS,
    seed: int = SEED,
    n_folds: int = 5,
    min_train_fraction: float = 0.5,
    on_step: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Walk-forward validate each of `algorithms` on `frame` (ordered by time), then fit the best one on all
    labelled rows. `on_step` is told each step as it starts (for a progress bar)."""
    step = on_step or (lambda _: None)
    labelled = frame.select(frame.labelled)
    if len(labelled) == 0:
        raise NotEnoughData("no closed candle has every feature and a known next close yet")
    if len(np.unique(labelled.y)) < 2:
        raise NotEnoughData(f"{len(labelled)} labelled rows with one class only: nothing to learn")
    folds = walk_forward_folds(labelled, n_folds=n_folds, min_train_fraction=min_train_fraction)
    results: dict[str, WalkForward] = {}
    for algorithm in algorithms:
        step(f"walk-forward {algorithm} ({n_folds} folds)")
        results[algorithm] = walk_forward(labelled, _fitter(algorithm, seed), folds)
    chosen = min(algorithms, key=lambda a: results[a].model["overall"]["log_loss"])
    step(f"fit {chosen} on {len(labelled)} rows")
    model = fit(chosen, labelled.x, labelled.y, seed=seed)
    artifact, sha256 = dump_model(model)
    best = results[chosen]
    return TrainingResult(
        interval=interval,
        algorithm=chosen,
        model=model,
        artifact=artifact,
        artifact_sha256=sha256,
        features=FEATURES,
        features_sha256=features_sha256(),
        hyperparameters={
            "algorithm": chosen,
            "params": HYPERPARAMETERS[chosen],
            "seed": seed,
            "n_folds": n_folds,
            "min_train_fraction": min_train_fraction,
            "gap_periods": 1,
            "candidates": list(algorithms),
        },
        library_versions=library_versions(),
        metrics=best.model,
        baseline_metrics=best.baselines,
        candidates={a: results[a].model["overall"] for a in algorithms},
        beats_baselines=best.beats_baselines,
        best_baseline=best.best_baseline,
        train_start_ms=int(labelled.time_ms[0]),
        train_end_ms=int(labelled.time_ms[-1]),
        n_rows=len(labelled),
        markets=sorted({str(m) for m in labelled.market}),
    )


@dataclass(frozen=True)
class Prediction:
    market: str
    feature_time_ms: int
    probability_up: float


def latest_predictions(model: Classifier, frame: FeatureFrame) -> list[Prediction]:
    """P(next close up) from each market's newest feature row."""
    newest: dict[str, int] = {}
    for index, market in enumerate(frame.market):
        newest[str(market)] = index  # rows are ordered by time
    rows = np.array(sorted(newest.values()), dtype=np.int64)
    if len(rows) == 0:
        return []
    p = probability_up(model, frame.x[rows])
    return [
        Prediction(str(frame.market[i]), int(frame.time_ms[i]), float(prob))
        for i, prob in zip(rows, p, strict=True)
    ]


def ms_to_datetime(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def walk_forward_table(result: TrainingResult) -> str:
    """The walk-forward figures of every candidate and baseline, one line each (test rows overall)."""

    def cell(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    lines = ["{:<28}{:>10}{:>10}{:>10}{:>10}".format("", *METRICS)]
    rows = [*((f"model {name}", m) for name, m in result.candidates.items())]
    rows += [(f"baseline {name}", b["overall"]) for name, b in result.baseline_metrics.items()]
    for name, m in rows:
        figures = "".join(f"{cell(m[k]):>10}" for k in METRICS)
        lines.append(f"{name:<28}{figures}")
    lines.append(
        f"chosen {result.algorithm}; beats_baselines={str(result.beats_baselines).lower()} "
        f"(best baseline {result.best_baseline}); {result.metrics['overall']['test_rows']} test rows"
    )
    return "\n".join(lines)

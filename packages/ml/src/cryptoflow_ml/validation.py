"""Walk-forward validation: expanding training windows, a gap between training and test, and the naive
baselines scored on exactly the same test rows as the model.

Folds are cut on the distinct feature times (periods), so every market's row of one period is on the same
side. Fold k trains on every period before `test_start - gap` and tests on its block of periods: with a gap
of one period the last training target (the close of the period after the last training row) is never a
test row's own candle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from cryptoflow_ml.features import FEATURES, FeatureFrame, FloatArray

# Hard 0/1 predictions (always-up, last-direction) have an infinite log loss on any miss; every probability
# is clipped to [CLIP, 1 - CLIP] before scoring, so a miss at full confidence costs -ln(1e-15) = 34.5.
CLIP = 1e-15
BASELINES = ("always_up", "last_direction", "base_rate")
METRICS = ("accuracy", "log_loss", "brier", "roc_auc")
_LAST_RETURN = FEATURES.index("log_return_1")


class NotEnoughData(ValueError):
    """Too few periods or rows to validate (the message says how many there are and how many are needed)."""


@dataclass(frozen=True)
class Fold:
    index: int
    train: npt.NDArray[np.bool_]
    test: npt.NDArray[np.bool_]
    train_end_ms: int
    test_start_ms: int
    test_end_ms: int


def walk_forward_folds(
    frame: FeatureFrame, *, n_folds: int = 5, min_train_fraction: float = 0.5, gap: int = 1
) -> list[Fold]:
    """Folds over the labelled rows of `frame` (which must be ordered by time)."""
    times = np.unique(frame.time_ms[frame.labelled])
    first_test = max(math.ceil(len(times) * min_train_fraction), gap + 2)
    if len(times) - first_test < n_folds:
        raise NotEnoughData(
            f"{len(times)} labelled periods: walk-forward validation needs at least "
            f"{math.ceil((n_folds + gap + 2) / (1 - min_train_fraction))} for {n_folds} folds"
        )
    folds = []
    for index, block in enumerate(np.array_split(np.arange(first_test, len(times)), n_folds)):
        train_end = times[block[0] - gap - 1]
        test = frame.labelled & (frame.time_ms >= times[block[0]]) & (frame.time_ms <= times[block[-1]])
        train = frame.labelled & (frame.time_ms <= train_end)
        folds.append(Fold(index, train, test, int(train_end), int(times[block[0]]), int(times[block[-1]])))
    return folds


def scores(y: FloatArray, p: FloatArray) -> dict[str, Any]:
    """Accuracy (p > 0.5 means up), log loss, Brier score and ROC AUC (None when `y` has one class)."""
    clipped = np.clip(p, CLIP, 1 - CLIP)
    both = len(np.unique(y)) == 2
    return {
        "accuracy": float(np.mean((p > 0.5) == (y == 1.0))),
        "log_loss": float(log_loss(y, clipped, labels=[0.0, 1.0])),
        "brier": float(brier_score_loss(y, p)),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
    }


def baseline_probabilities(name: str, train: FeatureFrame, test: FeatureFrame) -> FloatArray:
    """always_up: 1; last_direction: 1 if the last close-to-close move was up, else 0; base_rate: the share
    of up moves in the training window."""
    if name == "always_up":
        return np.ones(len(test))
    if name == "last_direction":
        return (test.x[:, _LAST_RETURN] > 0).astype(np.float64)
    if name == "base_rate":
        return np.full(len(test), float(np.mean(train.y)))
    raise ValueError(f"unknown baseline {name!r}")


Fitter = Callable[[FeatureFrame], Callable[[FeatureFrame], FloatArray]]


@dataclass(frozen=True)
class WalkForward:
    """One candidate's walk-forward figures: overall (all test rows together) and per fold, plus the
    baselines' on the same rows."""

    model: dict[str, Any]
    baselines: dict[str, dict[str, Any]]

    @property
    def best_baseline(self) -> str:
        return min(BASELINES, key=lambda b: self.baselines[b]["overall"]["log_loss"])

    @property
    def beats_baselines(self) -> bool:
        """Strictly lower walk-forward log loss than the best baseline."""
        best = self.baselines[self.best_baseline]["overall"]["log_loss"]
        return bool(self.model["overall"]["log_loss"] < best)


def walk_forward(frame: FeatureFrame, fit: Fitter, folds: list[Fold]) -> WalkForward:
    """`fit(train)` returns a predictor of P(up); it is called once per fold on that fold's training rows."""
    model_p: list[FloatArray] = []
    base_p: dict[str, list[FloatArray]] = {b: [] for b in BASELINES}
    ys: list[FloatArray] = []
    model_folds: list[dict[str, Any]] = []
    base_folds: dict[str, list[dict[str, Any]]] = {b: [] for b in BASELINES}
    for fold in folds:
        train, test = frame.select(fold.train), frame.select(fold.test)
        p = fit(train)(test)
        info: dict[str, Any] = {
            "fold": fold.index,
            "train_rows": len(train),
            "test_rows": len(test),
            "train_end_ms": fold.train_end_ms,
            "test_start_ms": fold.test_start_ms,
            "test_end_ms": fold.test_end_ms,
        }
        model_folds.append({**info, **scores(test.y, p)})
        model_p.append(p)
        ys.append(test.y)
        for b in BASELINES:
            bp = baseline_probabilities(b, train, test)
            base_folds[b].append({**info, **scores(test.y, bp)})
            base_p[b].append(bp)
    y = np.concatenate(ys)
    model: dict[str, Any] = {
        "overall": {**scores(y, np.concatenate(model_p)), "test_rows": len(y)},
        "folds": model_folds,
    }
    baselines: dict[str, dict[str, Any]] = {
        b: {"overall": {**scores(y, np.concatenate(base_p[b])), "test_rows": len(y)}, "folds": base_folds[b]}
        for b in BASELINES
    }
    return WalkForward(model, baselines)

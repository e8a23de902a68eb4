"""The ML machinery proven both ways, on pure logic (no database): features never look ahead, a planted
pattern is found and beats every baseline, a random walk yields no claimed skill, training is reproducible."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from cryptoflow_ml import synthetic
from cryptoflow_ml.features import (
    FEATURES,
    INPUT_COLUMNS,
    INTERVAL_MS,
    MarketSeries,
    market_features,
    pooled_features,
)
from cryptoflow_ml.models import ArtifactError, load_model, probability_up
from cryptoflow_ml.training import latest_predictions, train
from cryptoflow_ml.validation import BASELINES, NotEnoughData, walk_forward_folds

DAY = INTERVAL_MS["1d"]


def _shifted_after(series: MarketSeries, t: int, rng: np.random.Generator) -> MarketSeries:
    """Every input after index t replaced: the closes moved by a random factor, the rest randomized."""
    columns = {}
    for name in INPUT_COLUMNS:
        values = series.columns[name].copy()
        values[t + 1 :] = values[t + 1 :] * rng.uniform(0.5, 1.5, len(values) - t - 1)
        columns[name] = values
    return dataclasses.replace(series, columns=columns)


@pytest.mark.parametrize("t", [40, 75, 118])
def test_features_at_t_ignore_every_input_after_t(t: int) -> None:
    series = synthetic.series("KRW-BTC", periods=120, seed=3)
    before = market_features(series)
    after = market_features(_shifted_after(series, t, np.random.default_rng(t)))
    keep_before, keep_after = before.time_ms <= series.start_ms[t], after.time_ms <= series.start_ms[t]
    np.testing.assert_array_equal(before.time_ms[keep_before], after.time_ms[keep_after])
    np.testing.assert_array_equal(before.x[keep_before], after.x[keep_after])
    # The target is the one thing that looks ahead, and only at the next close.
    np.testing.assert_array_equal(before.y[keep_before][:-1], after.y[keep_after][:-1])


def test_open_candles_and_gaps_are_left_out() -> None:
    series = synthetic.series("KRW-BTC", periods=120, seed=4)
    frame = market_features(series, closed_before_ms=int(series.start_ms[90]))  # candle 90 still open
    assert frame.time_ms[-1] == series.start_ms[89]
    assert np.isnan(frame.y[-1])  # its next close is not known yet
    # A missing candle: no row for it, no row whose return reaches back to it, no target that needs it.
    keep = np.ones(120, dtype=bool)
    keep[70] = False
    holed = MarketSeries(
        "KRW-BTC", "1d", series.start_ms[keep], {k: v[keep] for k, v in series.columns.items()}
    )
    frame = market_features(holed)
    times = set(frame.time_ms.tolist())
    assert series.start_ms[70] not in times
    assert not times & {int(series.start_ms[70 + k]) for k in (1, 3, 7, 14, 30)}
    assert int(series.start_ms[72]) in times
    row_69 = np.flatnonzero(frame.time_ms == series.start_ms[69])
    assert np.isnan(frame.y[row_69]).all()


def test_day_of_week_and_quote_features() -> None:
    frame = market_features(synthetic.series("BTC-ETH", periods=80, seed=1))
    dow = frame.x[:, FEATURES.index("day_of_week_0") : FEATURES.index("day_of_week_6") + 1]
    assert (dow.sum(axis=1) == 1).all()
    monday = np.flatnonzero(dow[:, 0] == 1)
    assert all(((t // DAY) + 3) % 7 == 0 for t in frame.time_ms[monday])
    assert (frame.x[:, FEATURES.index("quote_BTC")] == 1).all()


def test_a_planted_pattern_is_found_and_beats_every_baseline() -> None:
    frame = pooled_features(synthetic.markets(12, periods=400, autocorrelation=0.3, seed=7))
    result = train(frame, interval="1d")
    overall = result.metrics["overall"]
    assert result.beats_baselines
    for baseline in BASELINES:
        assert overall["log_loss"] < result.baseline_metrics[baseline]["overall"]["log_loss"] - 0.01, baseline
    assert overall["accuracy"] > result.baseline_metrics["always_up"]["overall"]["accuracy"] + 0.04
    assert overall["accuracy"] > result.baseline_metrics["base_rate"]["overall"]["accuracy"] + 0.04
    assert overall["roc_auc"] > 0.6


def test_a_random_walk_claims_no_skill() -> None:
    frame = pooled_features(synthetic.markets(12, periods=400, autocorrelation=0.0, seed=8))
    result = train(frame, interval="1d")
    assert not result.beats_baselines
    for name in ("logistic_regression", "lightgbm"):
        assert result.candidates[name]["accuracy"] < 0.55, (name, result.candidates[name])  # above: leakage
        assert 0.45 < result.candidates[name]["roc_auc"] < 0.55, (name, result.candidates[name])


def test_training_twice_gives_identical_predictions() -> None:
    frame = pooled_features(synthetic.markets(6, periods=200, autocorrelation=0.1, seed=9))
    first, second = train(frame, interval="1d"), train(frame, interval="1d")
    assert first.metrics == second.metrics
    assert first.candidates == second.candidates
    np.testing.assert_array_equal(probability_up(first.model, frame.x), probability_up(second.model, frame.x))
    # The stored artifact predicts what the trained model predicts.
    loaded = load_model(first.artifact, sha256=first.artifact_sha256, versions=first.library_versions)
    np.testing.assert_array_equal(probability_up(loaded, frame.x), probability_up(first.model, frame.x))
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(first.artifact + b"x", sha256=first.artifact_sha256, versions=first.library_versions)
    with pytest.raises(ArtifactError, match="library versions"):
        load_model(first.artifact, sha256=first.artifact_sha256, versions={"lightgbm": "0.1"})
    predictions = latest_predictions(first.model, frame)
    assert sorted(p.market for p in predictions) == sorted(set(frame.market.tolist()))
    assert all(p.feature_time_ms == frame.time_ms.max() for p in predictions)


def test_folds_expand_with_a_one_period_gap() -> None:
    frame = pooled_features(synthetic.markets(3, periods=120, seed=2))
    labelled = frame.select(frame.labelled)
    folds = walk_forward_folds(labelled, n_folds=5)
    for previous, fold in itertools.pairwise(folds):
        assert fold.train.sum() > previous.train.sum()
    for fold in folds:
        assert labelled.time_ms[fold.train].max() == fold.train_end_ms
        assert fold.test_start_ms - fold.train_end_ms == 2 * DAY  # one whole period between them
        assert not (fold.train & fold.test).any()
    with pytest.raises(NotEnoughData, match="labelled periods"):
        walk_forward_folds(labelled.select(labelled.time_ms < labelled.time_ms[0] + 6 * DAY), n_folds=5)

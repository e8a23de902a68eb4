"""Answer shape and query parameters of `/api/predict/`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cryptoflow_service.common.fields import EpochMsField, IsoTimeField
from cryptoflow_service.common.markets import normalize_market


class PredictQuery(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField(required=False, help_text="Market code, e.g. KRW-BTC (any case).")
    symbol = serializers.CharField(required=False, help_text="Alias of `market`.")
    interval = serializers.ChoiceField(choices=["1d", "1m"], default="1d", help_text="Candle interval.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = {attrs[k] for k in ("market", "symbol") if k in attrs}
        if not given:
            raise serializers.ValidationError({"market": ["This parameter is required (or `symbol`)."]})
        codes = {normalize_market(code) for code in given}
        if None in codes:
            raise serializers.ValidationError(
                {"market": [f"'{min(given)[:40]}' is not a market code like KRW-BTC."]}
            )
        if len(codes) > 1:
            raise serializers.ValidationError({"symbol": ["`market` and `symbol` name different markets."]})
        attrs["market"] = codes.pop()
        return attrs


class Scores(serializers.Serializer):  # type: ignore[type-arg]
    """Walk-forward figures over every test row of every fold (null ROC AUC: one class only)."""

    accuracy = serializers.FloatField()
    log_loss = serializers.FloatField()
    brier = serializers.FloatField()
    roc_auc = serializers.FloatField(allow_null=True)
    test_rows = serializers.IntegerField()


class Baselines(serializers.Serializer):  # type: ignore[type-arg]
    always_up = Scores()
    last_direction = Scores()
    base_rate = Scores(help_text="The training window's share of up moves, as the probability.")


class WalkForward(serializers.Serializer):  # type: ignore[type-arg]
    model = Scores()
    baselines = Baselines()
    candidates = serializers.DictField(child=Scores(), help_text="Every algorithm tried, on the same folds.")


class ModelInfo(serializers.Serializer):  # type: ignore[type-arg]
    version = serializers.CharField()
    algorithm = serializers.CharField()
    created_at = EpochMsField()
    created_at_iso = IsoTimeField(source="created_at")
    train_start = EpochMsField(help_text="First feature time of the training rows.")
    train_end = EpochMsField(help_text="Last feature time of the training rows.")
    training_rows = serializers.IntegerField()
    beats_baselines = serializers.BooleanField()
    best_baseline = serializers.CharField()
    walk_forward = WalkForward()


class PredictAnswer(serializers.Serializer):  # type: ignore[type-arg]
    market = serializers.CharField()
    interval = serializers.CharField()
    probability_up = serializers.FloatField(help_text="P(next period's close > the feature candle's close).")
    direction = serializers.ChoiceField(choices=["up", "not_up"], help_text="up when probability_up > 0.5.")
    beats_baselines = serializers.BooleanField(
        help_text="Whether the model's walk-forward log loss beat the best naive baseline's. False: read "
        "probability_up as no better than the base rate."
    )
    feature_time = EpochMsField(help_text="Start of the newest closed candle the features used.")
    feature_time_iso = IsoTimeField(source="feature_time")
    predicts_close_of = EpochMsField(help_text="Start of the candle whose close is predicted.")
    model_version = serializers.CharField()
    model = ModelInfo()
    note = serializers.CharField(help_text="What the prediction is worth; shown with every prediction.")

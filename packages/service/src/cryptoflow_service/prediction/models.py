# Without the django-stubs mypy plugin (the root mypy config has none), model field types cannot be inferred.
# mypy: disable-error-code="var-annotated"
"""Unmanaged models of the ML registry and predictions mart (DDL: cryptoflow-batch's migration 0005_ml).
Django never creates, alters or flushes these tables; only what the API shows is mapped."""

from __future__ import annotations

from django.db import models


class MlModel(models.Model):
    """A registered model; the newest of an interval is the current one."""

    model_id = models.BigIntegerField(primary_key=True)
    version = models.TextField(unique=True)
    interval = models.TextField()
    algorithm = models.TextField()
    train_start = models.DateTimeField()
    train_end = models.DateTimeField()
    training_rows = models.IntegerField()
    features_sha256 = models.TextField()
    metrics = models.JSONField()
    baseline_metrics = models.JSONField()
    candidate_metrics = models.JSONField()
    beats_baselines = models.BooleanField()
    best_baseline = models.TextField()
    note = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = '"mart"."ml_models"'


class Prediction(models.Model):
    pk = models.CompositePrimaryKey("market", "interval", "model_version", "feature_time")
    market = models.TextField()
    interval = models.TextField()
    feature_time = models.DateTimeField()
    model_version = models.TextField()
    probability_up = models.FloatField()
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = '"mart"."predictions"'

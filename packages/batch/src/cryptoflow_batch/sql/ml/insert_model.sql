INSERT INTO mart.ml_models (
    version, interval, algorithm, train_start, train_end, data_start, data_end, training_rows, markets,
    features, features_sha256, hyperparameters, library_versions, metrics, baseline_metrics,
    candidate_metrics, beats_baselines, best_baseline, note, artifact, artifact_sha256, created_at)
VALUES (
    %(version)s, %(interval)s, %(algorithm)s, %(train_start)s, %(train_end)s, %(data_start)s, %(data_end)s,
    %(training_rows)s, %(markets)s, %(features)s, %(features_sha256)s, %(hyperparameters)s,
    %(library_versions)s, %(metrics)s, %(baseline_metrics)s, %(candidate_metrics)s, %(beats_baselines)s,
    %(best_baseline)s, %(note)s, %(artifact)s, %(artifact_sha256)s, %(created_at)s)
RETURNING model_id

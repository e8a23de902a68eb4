-- The ML model registry and the predictions mart. cryptoflow-batch trains (with cryptoflow-ml), registers
-- and scores; the service reads both through unmanaged models. The newest model of an interval (by
-- created_at, then model_id) is the current one. Probabilities are model outputs, not prices: double
-- precision.

CREATE TABLE mart.ml_models (
    model_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version text NOT NULL UNIQUE,
    interval text NOT NULL CHECK (interval IN ('1d', '1m')),
    algorithm text NOT NULL,
    train_start timestamptz NOT NULL,       -- first and last feature time of the training rows
    train_end timestamptz NOT NULL,
    data_start timestamptz NOT NULL,        -- first and last candle read
    data_end timestamptz NOT NULL,
    training_rows integer NOT NULL,
    markets text[] NOT NULL,
    features jsonb NOT NULL,                -- the feature names, in order
    features_sha256 text NOT NULL,
    hyperparameters jsonb NOT NULL,
    library_versions jsonb NOT NULL,
    metrics jsonb NOT NULL,                 -- walk-forward: {"overall": {...}, "folds": [...]}
    baseline_metrics jsonb NOT NULL,        -- {baseline: {"overall": ..., "folds": ...}} on the same folds
    candidate_metrics jsonb NOT NULL,       -- every candidate's overall walk-forward figures
    beats_baselines boolean NOT NULL,       -- walk-forward log loss below the best baseline's
    best_baseline text NOT NULL,
    note text NOT NULL,
    artifact bytea NOT NULL,
    artifact_sha256 text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX ml_models_current ON mart.ml_models (interval, created_at DESC, model_id DESC);

CREATE TABLE mart.predictions (
    market text NOT NULL,
    interval text NOT NULL CHECK (interval IN ('1d', '1m')),
    feature_time timestamptz NOT NULL,      -- start of the newest closed candle the features used
    model_version text NOT NULL REFERENCES mart.ml_models (version) ON DELETE CASCADE,
    probability_up double precision NOT NULL CHECK (probability_up >= 0 AND probability_up <= 1),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (market, interval, model_version, feature_time)
);
CREATE INDEX predictions_newest ON mart.predictions (market, interval, feature_time DESC);

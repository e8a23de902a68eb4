-- One market's prediction from one model for one feature time; scoring the same again changes nothing.
INSERT INTO mart.predictions AS p (market, interval, feature_time, model_version, probability_up, created_at)
VALUES (%(market)s, %(interval)s, %(feature_time)s, %(model_version)s, %(probability_up)s, %(created_at)s)
ON CONFLICT (market, interval, model_version, feature_time) DO UPDATE
    SET probability_up = EXCLUDED.probability_up, created_at = EXCLUDED.created_at
    WHERE p.probability_up IS DISTINCT FROM EXCLUDED.probability_up

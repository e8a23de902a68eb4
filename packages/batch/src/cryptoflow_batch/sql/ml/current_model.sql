-- The current model of an interval: the newest registered one.
SELECT version, features_sha256, library_versions, artifact, artifact_sha256
FROM mart.ml_models
WHERE interval = %(interval)s
ORDER BY created_at DESC, model_id DESC
LIMIT 1

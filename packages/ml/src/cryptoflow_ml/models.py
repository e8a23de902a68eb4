"""The two candidate models, seeded and single-threaded, and their artifacts.

- `logistic_regression`: scikit-learn's StandardScaler + LogisticRegression (L2, lbfgs: deterministic).
- `lightgbm`: LightGBM's gradient-boosted trees, small (60 trees of 7 leaves), `deterministic=True`,
  one thread, row and column sampling seeded: training twice on the same rows gives the same model.

An artifact is the pickled estimator; the registry keeps its bytes with their sha256 and the library
versions that wrote it, and `load_model` refuses bytes whose hash or library versions do not match
(pickles are only read back from our own registry, never from outside).
"""

from __future__ import annotations

import hashlib
import pickle
from importlib.metadata import version
from typing import Any, Protocol

import lightgbm
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cryptoflow_ml.features import FloatArray

SEED = 20261202
ALGORITHMS = ("logistic_regression", "lightgbm")
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "logistic_regression": {"C": 0.1, "max_iter": 2000},
    "lightgbm": {
        "n_estimators": 60,
        "learning_rate": 0.05,
        "num_leaves": 7,
        "min_child_samples": 40,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
    },
}


class Classifier(Protocol):
    def fit(self, x: FloatArray, y: FloatArray) -> Any: ...
    def predict_proba(self, x: FloatArray) -> Any: ...


class ArtifactError(ValueError):
    """Stored model bytes that cannot be used (hash mismatch, other library versions)."""


def library_versions() -> dict[str, str]:
    return {
        "cryptoflow-ml": version("cryptoflow-ml"),
        "scikit-learn": sklearn.__version__,
        "lightgbm": lightgbm.__version__,
        "numpy": np.__version__,
    }


def make_model(algorithm: str, *, seed: int = SEED) -> Classifier:
    params = HYPERPARAMETERS.get(algorithm)
    if params is None:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    if algorithm == "logistic_regression":
        pipeline: Classifier = make_pipeline(StandardScaler(), LogisticRegression(**params))
        return pipeline
    return lightgbm.LGBMClassifier(
        **params, random_state=seed, n_jobs=1, deterministic=True, force_col_wise=True, verbose=-1
    )


def fit(algorithm: str, x: FloatArray, y: FloatArray, *, seed: int = SEED) -> Classifier:
    model = make_model(algorithm, seed=seed)
    model.fit(x, y.astype(np.int64))
    return model


def probability_up(model: Classifier, x: FloatArray) -> FloatArray:
    if len(x) == 0:
        return np.empty(0)
    return np.asarray(model.predict_proba(x)[:, 1], dtype=np.float64)


def dump_model(model: Classifier) -> tuple[bytes, str]:
    """The artifact's bytes and their sha256."""
    data = pickle.dumps(model, protocol=5)
    return data, hashlib.sha256(data).hexdigest()


def load_model(data: bytes, *, sha256: str, versions: dict[str, str]) -> Classifier:
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArtifactError("the model artifact does not match its sha256")
    current = library_versions()
    differ = {
        k: (v, current.get(k)) for k, v in versions.items() if k != "cryptoflow-ml" and current.get(k) != v
    }
    if differ:
        raise ArtifactError(f"the model was written by other library versions {differ}; train a new one")
    model: Classifier = pickle.loads(data)  # noqa: S301 - our own registry's bytes, sha256 checked above
    return model

"""Where the recorded-shape Upbit samples are: `UPBIT_SAMPLES_DIR`, else the repository's vendored copy."""

from __future__ import annotations

import os
from pathlib import Path


class SamplesNotFoundError(RuntimeError):
    pass


def upbit_samples_dir(start: Path | None = None) -> Path:
    """The samples folder: `$UPBIT_SAMPLES_DIR` when set, else `testdata/upbit-samples` in the first
    ancestor of `start` (default: the working directory) that has one."""
    configured = os.environ.get("UPBIT_SAMPLES_DIR")
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise SamplesNotFoundError(f"UPBIT_SAMPLES_DIR={configured} is not a directory")
        return path
    here = (start or Path.cwd()).resolve()
    for parent in (here, *here.parents):
        candidate = parent / "testdata" / "upbit-samples"
        if candidate.is_dir():
            return candidate
    raise SamplesNotFoundError(
        f"Upbit samples not found above {here}: set UPBIT_SAMPLES_DIR or restore testdata/upbit-samples"
    )

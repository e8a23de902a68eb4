"""The contracts version that records carry in their `contract-version` header, and the major-version rule."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Final

from cryptoflow_contracts.errors import IncompatibleVersionError

CONTRACT_VERSION: Final[str] = version("cryptoflow-contracts")

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$", re.ASCII
)


def parse_version(text: str) -> tuple[int, int, int]:
    """`"1.2.3"` -> `(1, 2, 3)`; pre-release and build suffixes are accepted and ignored."""
    match = _SEMVER.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return int(match[1]), int(match[2]), int(match[3])


def major(text: str) -> int:
    return parse_version(text)[0]


def is_compatible(text: str, *, ours: str = CONTRACT_VERSION) -> bool:
    """True when a record written with contracts `text` can be read by contracts `ours`: same major."""
    try:
        return major(text) == major(ours)
    except ValueError:
        return False


def require_compatible(text: str, *, ours: str = CONTRACT_VERSION) -> None:
    """Raise `IncompatibleVersionError` (with a reason fit for a dead-letter record) unless compatible."""
    if not is_compatible(text, ours=ours):
        raise IncompatibleVersionError(
            f"contract-version {text!r} is not readable by contracts {ours} (major {major(ours)} expected)"
        )

"""Where things live and which ports the CLI uses, read once from the environment.

Every variable has a loopback default, so the local stack needs no configuration. A plain dataclass
rather than pydantic-settings: this module is imported by the pytest plugin in every package's test run,
and six variables do not need a framework.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_KAFKA_VERSION = "3.9.1"
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    state_dir: Path
    cache_dir: Path
    kafka_version: str
    kafka_port: int
    kafka_controller_port: int
    postgres_port: int
    redis_port: int
    auto_install: bool

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
        env = os.environ if environ is None else environ
        here = (cwd or Path.cwd()).absolute()
        state = env.get("CRYPTOFLOW_STATE_DIR") or str(_repo_root(here) / ".state")
        return cls(
            state_dir=Path(state).expanduser().absolute(),
            cache_dir=cache_dir(env),
            kafka_version=kafka_version(env),
            kafka_port=_port(env, "CRYPTOFLOW_KAFKA_PORT", 9092),
            kafka_controller_port=_port(env, "CRYPTOFLOW_KAFKA_CONTROLLER_PORT", 9093),
            postgres_port=_port(env, "CRYPTOFLOW_PG_PORT", 5432),
            redis_port=_port(env, "CRYPTOFLOW_REDIS_PORT", 6379),
            auto_install=auto_install(env),
        )


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$CRYPTOFLOW_CACHE_DIR``, else ``~/.cache/cryptoflow``: the install script writes the same place."""
    env = os.environ if environ is None else environ
    return Path(env.get("CRYPTOFLOW_CACHE_DIR") or Path.home() / ".cache" / "cryptoflow").expanduser()


def kafka_libs_dir(version: str, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "kafka" / version / "libs"


def auto_install(environ: Mapping[str, str] | None = None) -> bool:
    """``$CRYPTOFLOW_AUTO_INSTALL`` (default on): may a missing binary or jar be installed on the spot?"""
    return _flag(os.environ if environ is None else environ, "CRYPTOFLOW_AUTO_INSTALL", default=True)


def kafka_version(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    value = env.get("CRYPTOFLOW_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION
    return check_kafka_version(value, source="CRYPTOFLOW_KAFKA_VERSION")


def check_kafka_version(value: str, *, source: str) -> str:
    if not _VERSION.match(value):
        raise SettingsError(f"{source}={value!r} is not a Kafka version like {DEFAULT_KAFKA_VERSION}")
    return value


def _repo_root(start: Path) -> Path:
    """The workspace root (the folder with uv.lock) above ``start``, else ``start`` itself."""
    for folder in (start, *start.parents):
        if (folder / "uv.lock").is_file():
            return folder
    return start


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name}={raw!r} is outside 1..65535")
    return port


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")

"""JSON Schema of every public model, as one deterministic document, and the committed snapshots of it.

The document is `{"version": <package version>, "models": {<name>: <JSON Schema>}}`. A snapshot per
release lives in `packages/contracts/schemas/<version>.json`; `cryptoflow_contracts.compat` compares them.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cryptoflow_contracts import records, rest, ws
from cryptoflow_contracts.version import CONTRACT_VERSION, parse_version

__all__ = [
    "PUBLIC_MODELS",
    "build_document",
    "dump_document",
    "find_package_root",
    "load_snapshots",
    "snapshot_path",
]

PUBLIC_MODELS: Mapping[str, type[BaseModel]] = {
    model.__name__: model
    for model in (
        ws.WsTrade,
        ws.WsTicker,
        ws.WsOrderbook,
        ws.WsCandle,
        ws.WsStatus,
        ws.WsError,
        ws.WsListSubscriptions,
        rest.RestMarket,
        rest.RestTicker,
        rest.RestCandleSecond,
        rest.RestCandleMinute,
        rest.RestCandleDay,
        rest.RestCandleWeek,
        rest.RestCandleMonth,
        rest.RestCandleYear,
        rest.RestTradeTick,
        rest.RestOrderbook,
        rest.RestOrderbookInstrument,
        rest.RestError,
        records.TradeRecord,
        records.TickerRecord,
        records.OrderbookRecord,
        records.DeadLetterRecord,
    )
}
"""Every model whose shape is a contract. Removing one is a breaking change."""


def build_document(
    models: Mapping[str, type[BaseModel]] = PUBLIC_MODELS, *, version: str = CONTRACT_VERSION
) -> dict[str, Any]:
    # Validation mode: the schema of what each model accepts (records also write exactly this shape).
    return {
        "version": version,
        "models": {name: model.model_json_schema(mode="validation") for name, model in models.items()},
    }


def dump_document(document: Mapping[str, Any]) -> str:
    """Deterministic text: sorted keys, two-space indent, UTF-8 as is, trailing newline."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _is_contracts_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
    except tomllib.TOMLDecodeError:
        return False
    return bool(name == "cryptoflow-contracts")


def find_package_root(start: Path | None = None) -> Path:
    """The `packages/contracts` folder: above this module in a source checkout (editable install),
    else above `start` (default: the working directory), also trying `packages/contracts` below each level.
    Raises `FileNotFoundError` when run from an installed wheel outside the repository."""
    candidates = list(Path(__file__).resolve().parents)
    for parent in [(start or Path.cwd()).resolve(), *(start or Path.cwd()).resolve().parents]:
        candidates += [parent, parent / "packages" / "contracts"]
    for candidate in candidates:
        if _is_contracts_root(candidate):
            return candidate
    raise FileNotFoundError(
        "cannot find the cryptoflow-contracts source folder (packages/contracts); pass the path explicitly"
    )


def snapshot_path(schemas_dir: Path, version: str) -> Path:
    return schemas_dir / f"{version}.json"


def load_snapshots(schemas_dir: Path) -> dict[str, dict[str, Any]]:
    """Every `<X.Y.Z>.json` in `schemas_dir`, by version. Other files are ignored."""
    snapshots: dict[str, dict[str, Any]] = {}
    for path in sorted(schemas_dir.glob("*.json")):
        try:
            parse_version(path.stem)
        except ValueError:
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("models"), dict):
            raise ValueError(f"{path} is not a schema snapshot (no 'models' object)")
        snapshots[path.stem] = document
    return snapshots

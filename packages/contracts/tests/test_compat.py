"""The compatibility checker: each change class on throwaway models, and the version gate."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from cryptoflow_contracts.cli import main
from cryptoflow_contracts.compat import (
    Bump,
    Change,
    Severity,
    check_compat,
    classify,
    diff_documents,
    required_bump,
    version_bump,
)
from cryptoflow_contracts.decimals import DecimalStr, WireDecimal
from cryptoflow_contracts.schema import build_document, dump_document

EXPORT = "run `cryptoflow-contracts schema export` and commit the file"


def doc(*models: type[BaseModel], version: str = "1.0.0") -> dict[str, Any]:
    """A schema document keyed by the model names without their version suffix (`TradeV2` -> `Trade`)."""
    return build_document({m.__name__.split("V")[0]: m for m in models}, version=version)


def changes(old: type[BaseModel], new: type[BaseModel]) -> list[tuple[Severity, str, str]]:
    return [(c.severity, c.path, c.message) for c in diff_documents(doc(old), doc(new))]


class Unit(BaseModel):
    price: WireDecimal
    size: WireDecimal


class Trade(BaseModel):
    market: str
    price: WireDecimal
    side: Literal["ASK", "BID"]
    volume: int
    note: str | None = None
    units: list[Unit] = []


# --- breaking -------------------------------------------------------------------------------------


def test_model_removed() -> None:
    assert diff_documents(doc(Trade, Unit), doc(Trade)) == [
        Change(Severity.BREAKING, "Unit", "model removed")
    ]


def test_field_removed() -> None:
    class TradeV2(BaseModel):
        market: str
        side: Literal["ASK", "BID"]
        volume: int
        note: str | None = None
        units: list[Unit] = []

    assert changes(Trade, TradeV2) == [(Severity.BREAKING, "Trade.price", "field removed")]


def test_field_renamed() -> None:
    class TradeV2(BaseModel):
        market: str
        trade_price: WireDecimal
        side: Literal["ASK", "BID"]
        volume: int
        note: str | None = None
        units: list[Unit] = []

    assert changes(Trade, TradeV2) == [
        (Severity.BREAKING, "Trade.price", "field removed (renamed to 'trade_price'?)"),
        (Severity.BREAKING, "Trade.trade_price", "new required field"),
    ]


def test_type_narrowed() -> None:
    class TradeV2(BaseModel):
        market: Literal["KRW-BTC"]  # any string -> one value
        price: int  # number -> integer
        side: Literal["ASK", "BID"]
        volume: int = Field(ge=0)  # a new bound
        note: str | None = None
        units: list[Unit] = []

    assert changes(Trade, TradeV2) == [
        (Severity.BREAKING, "Trade.market", 'type narrowed from string to "KRW-BTC"'),
        (Severity.BREAKING, "Trade.price", "type narrowed from number to integer"),
        (Severity.BREAKING, "Trade.volume", "type narrowed from integer to integer(minimum=0)"),
    ]


def test_type_changed() -> None:
    class TradeV2(BaseModel):
        market: str
        price: DecimalStr  # JSON number -> decimal string
        side: Literal["ASK", "BID"]
        volume: str
        note: str | None = None
        units: list[Unit] = []

    result = changes(Trade, TradeV2)
    assert [(s, p) for s, p, _ in result] == [
        (Severity.BREAKING, "Trade.price"),
        (Severity.BREAKING, "Trade.volume"),
    ]
    assert result[1][2] == "type changed from integer to string"


def test_new_required_field_and_optional_became_required() -> None:
    class TradeV2(BaseModel):
        market: str
        price: WireDecimal
        side: Literal["ASK", "BID"]
        volume: int
        note: str | None
        units: list[Unit] = []
        exchange: str

    assert changes(Trade, TradeV2) == [
        (Severity.BREAKING, "Trade.exchange", "new required field"),
        (Severity.BREAKING, "Trade.note", "optional field became required"),
    ]


def test_enum_value_removed_and_not_nullable_any_more() -> None:
    class TradeV2(BaseModel):
        market: str
        price: WireDecimal
        side: Literal["BID"]
        volume: int
        note: str = ""
        units: list[Unit] = []

    assert changes(Trade, TradeV2) == [
        (Severity.BREAKING, "Trade.note", "no longer nullable"),
        (Severity.BREAKING, "Trade.side", 'enum value "ASK" removed'),
    ]


def test_nested_model_and_array_items_are_compared() -> None:
    class UnitV2(BaseModel):
        price: WireDecimal

    class TradeV2(BaseModel):
        market: str
        price: WireDecimal
        side: Literal["ASK", "BID"]
        volume: int
        note: str | None = None
        units: list[UnitV2] = []

    assert changes(Trade, TradeV2) == [(Severity.BREAKING, "Trade.units[].size", "field removed")]


def test_unknown_fields_no_longer_tolerated() -> None:
    class TradeV2(Trade):
        model_config = ConfigDict(extra="forbid")

    assert changes(Trade, TradeV2) == [(Severity.BREAKING, "Trade", "unknown fields no longer tolerated")]


def _with_simple_key(key: str | None) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "number"} if key is None else {"type": "number", "x-simple-key": key}
    return {
        "models": {
            "WsTrade": {"type": "object", "properties": {"trade_price": prop}, "required": ["trade_price"]}
        }
    }


def test_simple_key_changes() -> None:
    assert diff_documents(_with_simple_key("tp"), _with_simple_key("p")) == [
        Change(Severity.BREAKING, "WsTrade.trade_price", "SIMPLE key changed from 'tp' to 'p'")
    ]
    assert classify(diff_documents(_with_simple_key("tp"), _with_simple_key(None))) is Severity.BREAKING
    assert classify(diff_documents(_with_simple_key(None), _with_simple_key("tp"))) is Severity.ADDITIVE


# --- additive -------------------------------------------------------------------------------------


def test_new_model() -> None:
    assert diff_documents(doc(Trade), doc(Trade, Unit)) == [Change(Severity.ADDITIVE, "Unit", "model added")]


def test_new_optional_field() -> None:
    class TradeV2(Trade):
        exchange: str | None = None

    assert changes(Trade, TradeV2) == [(Severity.ADDITIVE, "Trade.exchange", "new optional field")]


def test_enum_value_added() -> None:
    class TradeV2(Trade):
        side: Literal["ASK", "BID", "AUCTION"]  # type: ignore[assignment]

    assert changes(Trade, TradeV2) == [(Severity.ADDITIVE, "Trade.side", 'enum value "AUCTION" added')]


def test_type_widened() -> None:
    class TradeV2(BaseModel):
        market: str
        price: WireDecimal
        side: str  # enum -> any string
        volume: Decimal | int  # integer -> number (pydantic: number | string)
        note: str | int | None = None
        units: list[Unit] = []

    result = changes(Trade, TradeV2)
    assert {(s, p) for s, p, _ in result} == {
        (Severity.ADDITIVE, "Trade.note"),
        (Severity.ADDITIVE, "Trade.side"),
        (Severity.ADDITIVE, "Trade.volume"),
    }
    assert (Severity.ADDITIVE, "Trade.side", 'type widened from "ASK" | "BID" to string') in result


def test_required_field_became_optional_and_nullable() -> None:
    class TradeV2(BaseModel):
        market: str
        price: WireDecimal | None = None
        side: Literal["ASK", "BID"]
        volume: int
        note: str | None = None
        units: list[Unit] = []

    assert changes(Trade, TradeV2) == [
        (Severity.ADDITIVE, "Trade.price", "required field became optional"),
        (Severity.ADDITIVE, "Trade.price", "now nullable"),
    ]


# --- none ------------------------------------------------------------------------------------------


def test_documentation_only_changes_are_none() -> None:
    class TradeV2(BaseModel):
        """A trade, now with a docstring."""

        market: str = Field(title="Market code", description="e.g. KRW-BTC")
        price: WireDecimal
        side: Literal["ASK", "BID"]
        volume: int
        note: str | None = "default changed"
        units: list[Unit] = []

    assert doc(Trade) != doc(TradeV2)
    assert changes(Trade, TradeV2) == []
    assert classify([]) is Severity.NONE


# --- bumps and the gate ---------------------------------------------------------------------------


def test_bumps() -> None:
    assert [required_bump(s) for s in Severity] == [Bump.NONE, Bump.MINOR, Bump.MAJOR]
    assert version_bump("1.0.0", "1.0.0") is Bump.NONE
    assert version_bump("1.0.0", "1.0.1") is Bump.PATCH
    assert version_bump("1.0.3", "1.1.0") is Bump.MINOR
    assert version_bump("1.4.0", "2.0.0") is Bump.MAJOR
    with pytest.raises(ValueError, match="lower"):
        version_bump("1.1.0", "1.0.9")


class TradeAdditive(Trade):
    exchange: str | None = None


class TradeBreaking(BaseModel):
    market: str
    price: WireDecimal


def _as(model: type[BaseModel], version: str) -> dict[str, Any]:
    return build_document({"Trade": model}, version=version)


def test_gate_passes_when_the_snapshot_is_the_models() -> None:
    report = check_compat(_as(Trade, "1.0.0"), "1.0.0", {"1.0.0": _as(Trade, "1.0.0")})
    assert report.ok, report.lines()
    assert report.baseline_version == "1.0.0"
    assert report.lines()[-1] == "OK"


@pytest.mark.parametrize(
    ("model", "version", "ok"),
    [
        (TradeAdditive, "1.0.1", False),
        (TradeAdditive, "1.1.0", True),
        (TradeAdditive, "2.0.0", True),
        (TradeBreaking, "1.1.0", False),
        (TradeBreaking, "2.0.0", True),
        (Trade, "1.0.1", True),
    ],
)
def test_gate_needs_a_big_enough_bump(model: type[BaseModel], version: str, ok: bool) -> None:
    snapshots = {"1.0.0": _as(Trade, "1.0.0"), version: _as(model, version)}
    report = check_compat(_as(model, version), version, snapshots)
    assert report.ok is ok, report.lines()


def test_gate_failure_says_what_to_do() -> None:
    report = check_compat(
        _as(TradeBreaking, "1.1.0"),
        "1.1.0",
        {"1.0.0": _as(Trade, "1.0.0"), "1.1.0": _as(TradeBreaking, "1.1.0")},
    )
    assert report.severity is Severity.BREAKING
    assert report.problems == [
        "breaking changes since 1.0.0 need a major version bump, but 1.0.0 -> 1.1.0 is minor: "
        "set the version to "
        "2.0.0 (or later), then run `cryptoflow-contracts schema export` and commit the file"
    ]
    assert "BREAKING  Trade.side: field removed" in report.lines()


def test_gate_compares_with_the_highest_older_snapshot() -> None:
    snapshots = {
        "1.0.0": _as(Trade, "1.0.0"),
        "1.1.0": _as(TradeAdditive, "1.1.0"),
        "1.2.0": _as(TradeAdditive, "1.2.0"),
    }
    report = check_compat(_as(TradeAdditive, "1.2.0"), "1.2.0", snapshots)
    assert (report.ok, report.baseline_version, report.changes) == (True, "1.1.0", [])


def test_gate_fails_without_a_snapshot_of_the_new_version() -> None:
    report = check_compat(_as(TradeAdditive, "1.1.0"), "1.1.0", {"1.0.0": _as(Trade, "1.0.0")})
    assert report.problems == [
        "no snapshot for 1.1.0: run `cryptoflow-contracts schema export` and commit the file"
    ]


def test_gate_fails_when_the_snapshot_of_the_version_is_stale() -> None:
    snapshots = {"1.0.0": _as(Trade, "1.0.0"), "1.1.0": _as(Trade, "1.1.0")}
    report = check_compat(_as(TradeAdditive, "1.1.0"), "1.1.0", snapshots)
    assert report.problems == [f"snapshot 1.1.0 does not match the models: {EXPORT}"]


def test_gate_fails_on_a_changed_model_without_a_bump() -> None:
    report = check_compat(_as(TradeAdditive, "1.0.0"), "1.0.0", {"1.0.0": _as(Trade, "1.0.0")})
    assert not report.ok
    assert report.problems[0].startswith(
        "additive changes since 1.0.0 need a minor version bump, but 1.0.0 -> 1.0.0 is none"
    )


def test_gate_fails_on_a_docs_only_drift_without_reexport() -> None:
    class TradeDocs(Trade):
        """Documented."""

    report = check_compat(_as(TradeDocs, "1.0.0"), "1.0.0", {"1.0.0": _as(Trade, "1.0.0")})
    assert report.changes == []
    assert report.problems == [f"snapshot 1.0.0 does not match the models: {EXPORT}"]


def test_gate_fails_without_snapshots_or_with_newer_ones() -> None:
    assert check_compat(_as(Trade, "1.0.0"), "1.0.0", {}).problems == [
        "no schema snapshots: run `cryptoflow-contracts schema export` and commit the file"
    ]
    report = check_compat(
        _as(Trade, "1.0.0"), "1.0.0", {"1.0.0": _as(Trade, "1.0.0"), "1.1.0": _as(Trade, "1.1.0")}
    )
    assert report.problems == ["snapshot 1.1.0 is newer than the package version 1.0.0"]
    only_newer = check_compat(_as(Trade, "1.0.0"), "1.0.0", {"2.0.0": _as(Trade, "2.0.0")})
    assert not only_newer.ok
    assert only_newer.baseline_version is None


# --- the real models through the CLI --------------------------------------------------------------


def test_removing_a_field_without_a_major_bump_fails_check_compat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of the real models without `WsTrade.trade_volume`, released as a minor: the gate says no."""
    released = build_document(version="1.0.0")
    edited = copy.deepcopy(released)
    trade = edited["models"]["WsTrade"]
    del trade["properties"]["trade_volume"]
    trade["required"].remove("trade_volume")
    report = check_compat({**edited, "version": "1.1.0"}, "1.1.0", {"1.0.0": released, "1.1.0": edited})
    assert not report.ok
    assert Change(Severity.BREAKING, "WsTrade.trade_volume", "field removed") in report.changes

    # The same through the command line: the committed 1.0.0 snapshot still has a field the code lacks.
    snapshot = copy.deepcopy(released)
    snapshot["models"]["TradeRecord"]["properties"]["exchange"] = {"type": "string"}
    snapshot["models"]["TradeRecord"]["required"].append("exchange")
    (tmp_path / "1.0.0.json").write_text(dump_document(snapshot), encoding="utf-8")
    (tmp_path / "1.1.0.json").write_text(dump_document(build_document(version="1.1.0")), encoding="utf-8")
    assert main(["check-compat", "--schemas-dir", str(tmp_path), "--version", "1.1.0"]) == 1
    out = capsys.readouterr().out
    assert "BREAKING  TradeRecord.exchange: field removed" in out
    assert "set the version to 2.0.0" in out
    (tmp_path / "2.0.0.json").write_text(dump_document(build_document(version="2.0.0")), encoding="utf-8")
    assert main(["check-compat", "--schemas-dir", str(tmp_path), "--version", "2.0.0"]) == 0


def test_committed_snapshot_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-compat"]) == 0, capsys.readouterr().out
    assert capsys.readouterr().out.splitlines()[-1] == "OK"


def test_check_compat_refuses_a_bad_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check-compat", "--version", "one"])
    assert caught.value.code == 2
    assert "not a semantic version" in capsys.readouterr().err


def test_check_compat_reports_a_broken_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "1.0.0.json").write_text(json.dumps({"version": "1.0.0"}), encoding="utf-8")
    assert main(["check-compat", "--schemas-dir", str(tmp_path)]) == 2
    assert "is not a schema snapshot" in capsys.readouterr().err

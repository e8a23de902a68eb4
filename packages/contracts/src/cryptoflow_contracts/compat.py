"""Compare two schema documents (`cryptoflow_contracts.schema`) and decide the version bump a change needs.

Pure functions over JSON Schema dicts: no files, no pydantic. The rules follow buf's breaking-change
detection (anything removed or changed is breaking, anything added is not) with Confluent's BACKWARD
reading of types (a reader built from the new schema must accept everything the old one accepted):

breaking (needs a new major):
    model removed; field removed or renamed; type narrowed or changed; new required field; optional
    field became required; enum value removed; a field no longer nullable; SIMPLE key changed or removed;
    unknown fields no longer tolerated.
additive (needs at least a new minor):
    new model; new optional field; required field became optional; enum value added; type widened;
    a field became nullable; a new SIMPLE key accepted.
none:
    only titles, descriptions or defaults changed.

Additive changes are BACKWARD compatible, not FORWARD: deploy consumers before producers (a consumer on
an older minor would send a new enum value to the dead-letter topic).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from cryptoflow_contracts.version import parse_version

__all__ = [
    "Bump",
    "Change",
    "CompatReport",
    "Severity",
    "check_compat",
    "classify",
    "diff_documents",
    "required_bump",
    "version_bump",
]


class Severity(StrEnum):
    NONE = "none"
    ADDITIVE = "additive"
    BREAKING = "breaking"


class Bump(IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3


_RANK = {Severity.NONE: 0, Severity.ADDITIVE: 1, Severity.BREAKING: 2}


@dataclass(frozen=True, slots=True)
class Change:
    severity: Severity
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper():<8}  {self.path}: {self.message}"


# Keywords that restrict the values a schema accepts; everything else (title, description, default...)
# is documentation and never a contract change.
_CONSTRAINTS = frozenset(
    {
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
    }
)
# For these, a smaller (min*) or larger (max*) bound in the new schema accepts more.
_LOWER_BOUNDS = frozenset({"minLength", "minimum", "exclusiveMinimum", "minItems"})
_UPPER_BOUNDS = frozenset({"maxLength", "maximum", "exclusiveMaximum", "maxItems"})
_DOCS = frozenset({"title", "description", "default", "examples", "deprecated", "$comment", "x-simple-key"})

# An atom is one kind of value a schema accepts: ("enum", json-of-value), ("null",), ("any",)
# or (type, constraints) for boolean/integer/number/string/array/object.
_Atom = tuple[Any, ...]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object"


class _Differ:
    def __init__(self, old_root: Mapping[str, Any], new_root: Mapping[str, Any]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.changes: list[Change] = []
        self._stack: set[tuple[int, int]] = set()

    def add(self, severity: Severity, path: str, message: str) -> None:
        self.changes.append(Change(severity, path, message))

    @staticmethod
    def resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in node:
            name = str(node["$ref"]).removeprefix("#/$defs/")
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**root.get("$defs", {})[name], **siblings}
        return node

    def alternatives(self, node: Mapping[str, Any], root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        node = self.resolve(node, root)
        for key in ("anyOf", "oneOf"):
            if key in node:
                return [alt for sub in node[key] for alt in self.alternatives(sub, root)]
        if isinstance(node.get("type"), list):
            return [{**node, "type": t} for t in node["type"]]
        return [node]

    @staticmethod
    def atoms(alts: Iterable[Mapping[str, Any]]) -> list[_Atom]:
        atoms: list[_Atom] = []
        for alt in alts:
            if "enum" in alt or "const" in alt:
                values = alt["enum"] if "enum" in alt else [alt["const"]]
                atoms += [("enum", json.dumps(value, sort_keys=True)) for value in values]
            elif alt.get("type") == "null":
                atoms.append(("null",))
            elif "type" in alt or "properties" in alt:
                constraints = tuple(sorted((k, json.dumps(v)) for k, v in alt.items() if k in _CONSTRAINTS))
                atoms.append((alt.get("type", "object"), constraints))
            else:
                atoms.append(("any",))
        return atoms

    @staticmethod
    def looser_or_equal(new: tuple[tuple[str, str], ...], old: tuple[tuple[str, str], ...]) -> bool:
        """Whether constraints `new` accept everything constraints `old` accept."""
        old_map = dict(old)
        for key, value in new:
            if key not in old_map:
                return False
            if value == old_map[key]:
                continue
            if key in _LOWER_BOUNDS and json.loads(value) <= json.loads(old_map[key]):
                continue
            if key in _UPPER_BOUNDS and json.loads(value) >= json.loads(old_map[key]):
                continue
            return False
        return True

    def covered(self, atom: _Atom, by: list[_Atom]) -> bool:
        """Whether the values `atom` stands for are all accepted by some atom of `by`."""
        if ("any",) in by or atom in by:
            return True
        if atom[0] == "enum":
            value_type = _json_type(json.loads(atom[1]))
            return any(b[0] == value_type and not b[1] for b in by if len(b) == 2)
        if len(atom) != 2:
            return False
        kind, constraints = atom
        return any(
            len(b) == 2
            and (b[0] == kind or (kind == "integer" and b[0] == "number"))
            and self.looser_or_equal(b[1], constraints)
            for b in by
        )

    @staticmethod
    def describe(atom: _Atom) -> str:
        if atom[0] == "enum":
            return str(atom[1])
        if len(atom) == 1:
            return str(atom[0])
        constraints = ", ".join(f"{k}={v}" for k, v in atom[1])
        return f"{atom[0]}({constraints})" if constraints else str(atom[0])

    def node(self, path: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        key = (id(old), id(new))
        if key in self._stack:  # a recursive model: already being compared further up
            return
        self._stack.add(key)
        try:
            self._compare(path, old, new)
        finally:
            self._stack.discard(key)

    def _compare(self, path: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        old_alts = self.alternatives(old, self.old_root)
        new_alts = self.alternatives(new, self.new_root)
        old_atoms, new_atoms = self.atoms(old_alts), self.atoms(new_alts)
        lost = [a for a in old_atoms if not self.covered(a, new_atoms)]
        gained = [a for a in new_atoms if not self.covered(a, old_atoms)]
        for atom in lost:
            if atom[0] == "enum":
                self.add(Severity.BREAKING, path, f"enum value {atom[1]} removed")
            elif atom == ("null",):
                self.add(Severity.BREAKING, path, "no longer nullable")
        for atom in gained:
            if atom[0] == "enum":
                self.add(Severity.ADDITIVE, path, f"enum value {atom[1]} added")
            elif atom == ("null",):
                self.add(Severity.ADDITIVE, path, "now nullable")
        lost_types = [a for a in lost if a[0] != "enum" and a != ("null",)]
        gained_types = [a for a in gained if a[0] != "enum" and a != ("null",)]
        if lost_types or gained_types:
            was = " | ".join(self.describe(a) for a in old_atoms if a != ("null",))
            now = " | ".join(self.describe(a) for a in new_atoms if a != ("null",))
            if lost_types and gained_types:
                self.add(Severity.BREAKING, path, f"type changed from {was} to {now}")
            elif lost_types:
                self.add(Severity.BREAKING, path, f"type narrowed from {was} to {now}")
            else:
                self.add(Severity.ADDITIVE, path, f"type widened from {was} to {now}")

        old_arrays = [a for a in old_alts if a.get("type") == "array"]
        new_arrays = [a for a in new_alts if a.get("type") == "array"]
        if len(old_arrays) == 1 and len(new_arrays) == 1:
            self.node(f"{path}[]", old_arrays[0].get("items", {}), new_arrays[0].get("items", {}))
        old_objects = [a for a in old_alts if "properties" in a]
        new_objects = [a for a in new_alts if "properties" in a]
        if len(old_objects) == 1 and len(new_objects) == 1:
            self.object(path, old_objects[0], new_objects[0])

    def object(self, path: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        added = sorted(new_props.keys() - old_props.keys())
        for name in sorted(old_props.keys() | new_props.keys()):
            where = f"{path}.{name}"
            if name not in new_props:
                twins = [a for a in added if _contract_part(new_props[a]) == _contract_part(old_props[name])]
                hint = f" (renamed to {twins[0]!r}?)" if twins else ""
                self.add(Severity.BREAKING, where, f"field removed{hint}")
            elif name not in old_props:
                if name in new_required:
                    self.add(Severity.BREAKING, where, "new required field")
                else:
                    self.add(Severity.ADDITIVE, where, "new optional field")
            else:
                if name in new_required and name not in old_required:
                    self.add(Severity.BREAKING, where, "optional field became required")
                elif name in old_required and name not in new_required:
                    self.add(Severity.ADDITIVE, where, "required field became optional")
                self.simple_key(
                    where, old_props[name].get("x-simple-key"), new_props[name].get("x-simple-key")
                )
                self.node(where, old_props[name], new_props[name])
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if old_extra is not False and new_extra is False:
            self.add(Severity.BREAKING, path, "unknown fields no longer tolerated")
        elif old_extra is False and new_extra is not False:
            self.add(Severity.ADDITIVE, path, "unknown fields now tolerated")

    def simple_key(self, path: str, old: str | None, new: str | None) -> None:
        if old == new:
            return
        if old is None:
            self.add(Severity.ADDITIVE, path, f"SIMPLE key {new!r} now accepted")
        elif new is None:
            self.add(Severity.BREAKING, path, f"SIMPLE key {old!r} no longer accepted")
        else:
            self.add(Severity.BREAKING, path, f"SIMPLE key changed from {old!r} to {new!r}")


def _contract_part(schema: Any) -> Any:
    """A schema without its documentation keywords, for spotting renamed fields."""
    if isinstance(schema, dict):
        return {k: _contract_part(v) for k, v in schema.items() if k not in _DOCS}
    if isinstance(schema, list):
        return [_contract_part(v) for v in schema]
    return schema


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every contract change from schema document `old` to `new`, models in name order."""
    old_models: Mapping[str, Any] = old["models"]
    new_models: Mapping[str, Any] = new["models"]
    changes: list[Change] = []
    for name in sorted(old_models.keys() | new_models.keys()):
        if name not in new_models:
            changes.append(Change(Severity.BREAKING, name, "model removed"))
        elif name not in old_models:
            changes.append(Change(Severity.ADDITIVE, name, "model added"))
        else:
            differ = _Differ(old_models[name], new_models[name])
            differ.node(name, old_models[name], new_models[name])
            changes += differ.changes
    return changes


def classify(changes: Iterable[Change]) -> Severity:
    """The most severe class among `changes` (NONE when there are none)."""
    return max((c.severity for c in changes), key=_RANK.__getitem__, default=Severity.NONE)


def required_bump(severity: Severity) -> Bump:
    return {Severity.NONE: Bump.NONE, Severity.ADDITIVE: Bump.MINOR, Severity.BREAKING: Bump.MAJOR}[severity]


def version_bump(old: str, new: str) -> Bump:
    """The bump from version `old` to `new`; `ValueError` if `new` is lower."""
    old_v, new_v = parse_version(old), parse_version(new)
    if new_v < old_v:
        raise ValueError(f"version {new} is lower than {old}")
    if new_v[0] != old_v[0]:
        return Bump.MAJOR
    if new_v[1] != old_v[1]:
        return Bump.MINOR
    return Bump.PATCH if new_v[2] != old_v[2] else Bump.NONE


def _suggest(baseline: str, bump: Bump) -> str:
    major, minor, patch = parse_version(baseline)
    if bump is Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


@dataclass
class CompatReport:
    current_version: str
    baseline_version: str | None = None
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def severity(self) -> Severity:
        return classify(self.changes)

    def lines(self) -> list[str]:
        out = [
            f"contracts {self.current_version}, compared with snapshot {self.baseline_version or '(none)'}"
        ]
        out += [str(change) for change in self.changes]
        out.append(f"change class: {self.severity}")
        out += [f"FAIL: {problem}" for problem in self.problems]
        out.append("OK" if self.ok else "check-compat failed")
        return out


def check_compat(
    current: Mapping[str, Any], current_version: str, snapshots: Mapping[str, Mapping[str, Any]]
) -> CompatReport:
    """Gate the current schema document against the committed snapshots (by version).

    Baseline: the highest snapshot below `current_version`, else the snapshot of `current_version` itself
    (the first release). Fails when the bump from the baseline is smaller than its changes need, when a
    snapshot is newer than the package, or when the snapshot of `current_version` is missing or differs
    from the models (run `cryptoflow-contracts schema export`).
    """
    report = CompatReport(current_version)
    export = "run `cryptoflow-contracts schema export` and commit the file"
    if not snapshots:
        report.problems.append(f"no schema snapshots: {export}")
        return report
    ours = parse_version(current_version)
    versions = sorted(snapshots, key=parse_version)
    newer = [v for v in versions if parse_version(v) > ours]
    if newer:
        report.problems.append(f"snapshot {newer[-1]} is newer than the package version {current_version}")
    older = [v for v in versions if parse_version(v) < ours]
    baseline = older[-1] if older else (current_version if current_version in snapshots else None)
    if baseline is None:
        report.problems.append(f"no snapshot for {current_version} or any earlier version: {export}")
        return report
    report.baseline_version = baseline
    report.changes = diff_documents(snapshots[baseline], current)
    needed = required_bump(report.severity)
    actual = version_bump(baseline, current_version)
    if actual < needed:
        report.problems.append(
            f"{report.severity} changes since {baseline} need a {needed.name.lower()} version bump, "
            f"but {baseline} -> {current_version} is {actual.name.lower()}: set the version to "
            f"{_suggest(baseline, needed)} (or later), then {export}"
        )
    own = snapshots.get(current_version)
    if own is None:
        report.problems.append(f"no snapshot for {current_version}: {export}")
    elif own["models"] != current["models"] and not (baseline == current_version and report.changes):
        report.problems.append(f"snapshot {current_version} does not match the models: {export}")
    return report

"""Prints the services of a compose file in dependency order, one line each: `SERVICE DEP:CONDITION ...`.

    python scripts/lib/compose-order.py COMPOSE_FILE [PROFILE,...]

Only services without profiles or with one of the given profiles; dependencies on services left out are
dropped (as `required: false` would). scripts/compose.sh starts them in this order on podman 4.3, whose
podman-compose cannot wait for health itself.
"""

from __future__ import annotations

import sys
from graphlib import TopologicalSorter
from pathlib import Path

import yaml


def main(argv: list[str]) -> int:
    services = yaml.safe_load(Path(argv[0]).read_text(encoding="utf-8"))["services"]
    profiles = {p for p in (argv[1] if len(argv) > 1 else "").split(",") if p}
    active = {
        name: spec
        for name, spec in services.items()
        if not spec.get("profiles") or profiles & set(spec["profiles"])
    }
    deps: dict[str, dict[str, str]] = {}
    for name, spec in active.items():
        raw = spec.get("depends_on") or {}
        if isinstance(raw, list):
            raw = {dep: {"condition": "service_started"} for dep in raw}
        deps[name] = {
            dep: (cond or {}).get("condition", "service_started")
            for dep, cond in raw.items()
            if dep in active
        }
    for name in TopologicalSorter({name: set(d) for name, d in deps.items()}).static_order():
        print(" ".join([name, *(f"{dep}:{cond}" for dep, cond in sorted(deps[name].items()))]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

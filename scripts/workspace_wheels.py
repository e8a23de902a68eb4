"""Print the wheel files a workspace member needs from `dist/`: its own and those of every workspace member
it depends on, transitively. Used by check-wheels.sh to install one stage alone."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def main() -> int:
    members = {}
    for pyproject in Path("packages").glob("*/pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        names = (re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0] for dep in project["dependencies"])
        members[project["name"]] = list(names)
    wanted, todo = set(), [sys.argv[1]]
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(dep for dep in members[name] if dep in members)
    for name in sorted(wanted):
        (wheel,) = Path("dist").glob(name.replace("-", "_") + "-*.whl")
        print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())

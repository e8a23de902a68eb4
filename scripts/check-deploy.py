"""Deployment consistency: every runnable package ships as an image and runs in the compose stack.

    python scripts/check-deploy.py            # the files: Dockerfile, compose, images.sh, images.yml
    python scripts/check-deploy.py --images   # also the built images' version labels (after `make images`)

Checks that every package with `[project.scripts]` (except the exempt ones below) has a final stage in
deploy/Dockerfile, a target in scripts/images.sh and .github/workflows/images.yml, and a compose service
running its image; with --images, that each image's `org.opencontainers.image.version` label equals the
package's pyproject.toml version. Prints every problem; exit 1 if there is any.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Runnable, but not deployed: what the exemption is for.
EXEMPT = {"cryptoflow-localstack": "starts Kafka/PostgreSQL/Redis for tests and `make up` on the host"}


def packages() -> dict[str, tuple[str, str]]:
    """Runnable distributions: name -> (image target, version). The target is the folder's name."""
    found = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        if project.get("scripts") and project["name"] not in EXEMPT:
            found[project["name"]] = (pyproject.parent.name, project["version"])
    return found


def check_files(runnable: dict[str, tuple[str, str]]) -> list[str]:
    problems = []
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.MULTILINE))
    images_sh = (ROOT / "scripts/images.sh").read_text()
    workflow = yaml.safe_load((ROOT / ".github/workflows/images.yml").read_text())
    rows = workflow["jobs"]["image"]["strategy"]["matrix"]["include"]
    matrix = {(row["package"], row["dist"]) for row in rows}
    compose = yaml.safe_load((ROOT / "deploy/compose/compose.yaml").read_text())
    images = {name: str(service.get("image", "")) for name, service in compose["services"].items()}
    for dist, (target, _) in runnable.items():
        if target not in stages:
            problems.append(f"{dist}: deploy/Dockerfile has no stage `{target}`")
        if f'test "$PACKAGE" = {dist} ' not in dockerfile:
            problems.append(f"{dist}: the Dockerfile's `{target}` stage does not check PACKAGE={dist}")
        if f"{target}:{dist}" not in images_sh:
            problems.append(f"{dist}: scripts/images.sh does not build `{target}:{dist}`")
        if (target, dist) not in matrix:
            problems.append(f"{dist}: .github/workflows/images.yml does not build {target} ({dist})")
        if not any(re.search(rf"cryptoflow-{re.escape(target)}:", image) for image in images.values()):
            problems.append(f"{dist}: no service in deploy/compose/compose.yaml runs cryptoflow-{target}")
    return problems


def check_labels(runnable: dict[str, tuple[str, str]]) -> list[str]:
    problems = []
    engine = os.environ.get("CRYPTOFLOW_CONTAINER", "podman")
    for dist, (target, version) in runnable.items():
        image = f"localhost/cryptoflow-{target}:latest"
        result = subprocess.run(
            [engine, "image", "inspect", "--format", "{{json .Config.Labels}}", image],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            problems.append(f"{dist}: no image {image} ({result.stderr.strip()})")
            continue
        label = (json.loads(result.stdout) or {}).get("org.opencontainers.image.version")
        if label != version:
            problems.append(f"{dist}: image {image} is labelled {label!r}, pyproject.toml says {version}")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="also check the built images' version labels")
    args = parser.parse_args(argv)
    runnable = packages()
    problems = check_files(runnable) + (check_labels(runnable) if args.images else [])
    for problem in problems:
        print(f"check-deploy: {problem}", file=sys.stderr)
    if not problems:
        what = "files and image labels" if args.images else "files"
        print(f"check-deploy: {len(runnable)} runnable packages, each with an image and a service ({what})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Vendor the dashboard's third-party JavaScript at pinned versions, integrity-checked.

    python packages/service/scripts/vendor_js.py           # fetch, check, write (idempotent)
    python packages/service/scripts/vendor_js.py --check   # only check the committed files (exit 1 if off)

Each package is fetched with the ordinary npm client (`npm pack`), its tarball checked against the pinned
Subresource-Integrity hash (the registry's `dist.integrity`, sha512), and the files we serve are written with
the package's LICENSE and NOTICE next to them, plus a `VERSION` line. The written files are committed: the
service never fetches anything at run time, and nothing is loaded from a CDN.

To upgrade: `npm view <package>@<version> dist.integrity`, change the pin below, run this script, commit.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Pin:
    package: str
    version: str
    integrity: str
    """sha512-<base64>, as `npm view <package>@<version> dist.integrity` prints it."""
    files: dict[str, str]
    """Path inside the tarball (under `package/`) -> file name written into `target`."""
    target: Path
    notice: str = ""
    """Written as `NOTICE` when the package does not ship the NOTICE file its licence asks us to show."""


PINS = (
    Pin(
        package="lightweight-charts",
        version="5.2.1",
        integrity="sha512-IVwoK1RLFiLPubaKIjNbtjWLnpPMqiABSrTay6whmNa8L1+19292VtHJ+BWyPUuLCwF0tcQlhEWd1CLB2a1nsQ==",
        files={
            "dist/lightweight-charts.standalone.production.js": "lightweight-charts.standalone.production.js",
            "LICENSE": "LICENSE",
        },
        target=SERVICE / "src/cryptoflow_service/dashboard/static/dashboard/vendor/lightweight-charts",
        # The npm package leaves out the repository's NOTICE file, whose "attribution notice" (and a link
        # to tradingview.com) its README asks every page using the library to show. This is its text.
        notice="TradingView Lightweight Charts\nCopyright (c) 2023 TradingView, Inc. https://www.tradingview.com/\n",
    ),
    # For the browser tests only (accessibility checks), never served by the service.
    Pin(
        package="axe-core",
        version="4.14.1",
        integrity="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        files={"axe.min.js": "axe.min.js", "LICENSE": "LICENSE"},
        target=SERVICE / "tests/browser/vendor/axe-core",
    ),
)


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(pin: Pin, workdir: Path) -> bytes:
    """The package's tarball from the npm registry, through `npm pack`."""
    spec = f"{pin.package}@{pin.version}"
    print(f"vendor-js: npm pack {spec}", flush=True)
    done = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"vendor-js: npm pack {spec} failed: {done.stderr.strip() or done.stdout.strip()}")
    tarball = workdir / done.stdout.strip().splitlines()[-1]
    return tarball.read_bytes()


def vendor(pin: Pin, workdir: Path) -> None:
    data = fetch(pin, workdir)
    got = sri(data)
    if got != pin.integrity:
        raise SystemExit(
            f"vendor-js: {pin.package}@{pin.version}: integrity mismatch (pinned {pin.integrity}, got {got})"
        )
    archive = workdir / f"{pin.package}.tgz"
    archive.write_bytes(data)
    pin.target.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        for inner, name in pin.files.items():
            member = tar.extractfile(f"package/{inner}") if f"package/{inner}" in names else None
            if member is None:
                raise SystemExit(f"vendor-js: {pin.package}@{pin.version} has no {inner}")
            contents[name] = member.read()
    if pin.notice:
        contents["NOTICE"] = pin.notice.encode()
    for name, content in contents.items():
        (pin.target / name).write_bytes(content)
    (pin.target / "VERSION").write_text(f"{pin.package} {pin.version} {pin.integrity}\n")
    print(f"vendor-js: {pin.package} {pin.version} -> {pin.target.relative_to(SERVICE)}", flush=True)


def check(pin: Pin) -> bool:
    version = pin.target / "VERSION"
    expected = f"{pin.package} {pin.version} {pin.integrity}\n"
    wanted = [*pin.files.values(), *(["NOTICE"] if pin.notice else [])]
    missing = [name for name in wanted if not (pin.target / name).is_file()]
    if missing or not version.is_file() or version.read_text() != expected:
        print(f"vendor-js: {pin.package}: committed files do not match the pin {pin.version}", flush=True)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the committed files")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if all(check(pin) for pin in PINS) else 1
    with tempfile.TemporaryDirectory() as tmp:
        for pin in PINS:
            vendor(pin, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())

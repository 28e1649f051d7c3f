"""Rebuild escalated/static/escalated/graphiql/ from the npm registry.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from unpkg, each pinned
to a version with a sha384 integrity hash. Escalated serves the very same files itself, so the
page works without internet. This script reads the page of the installed strawberry, fetches
each pinned package with ``npm pack``, checks every file against the page's integrity hash, and
writes the files, their licences and ``assets.json`` (what each file is, and the URL it stands
in for). Run it after upgrading strawberry-graphql, then run the tests:

    .venv/bin/python tools/vendor_graphiql.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "escalated" / "static" / "escalated" / "graphiql"
ASSET = re.compile(
    r'(?:src|href)="(?P<url>https://unpkg\.com/(?P<package>(?:@[^/@"]+/)?[^/@"]+)@'
    r'(?P<version>[^/"]+)/(?P<path>[^"]+))"\s+integrity="(?P<integrity>sha384-[^"]+)"'
)


def strawberry_page() -> str:
    import strawberry

    return (Path(strawberry.__file__).parent / "static" / "graphiql.html").read_text()


def npm_pack(spec: str, into: Path) -> tarfile.TarFile:
    done = subprocess.run(  # noqa: S603
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return tarfile.open(into / json.loads(done.stdout)[0]["filename"])


def member(archive: tarfile.TarFile, path: str) -> bytes | None:
    try:
        extracted = archive.extractfile(f"package/{path}")
    except KeyError:
        return None
    return extracted.read() if extracted else None


def main() -> int:
    page = strawberry_page()
    found = list(ASSET.finditer(page))
    if not found:
        print("no unpkg assets found in strawberry's graphiql.html", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for old in TARGET.iterdir():
        if old.name != "README.md":
            old.unlink()
    assets = []
    with tempfile.TemporaryDirectory() as scratch:
        archives: dict[str, tarfile.TarFile] = {}
        for match in found:
            package, version = match["package"], match["version"]
            spec = f"{package}@{version}"
            if spec not in archives:
                archives[spec] = npm_pack(spec, Path(scratch))
            archive = archives[spec]
            content = member(archive, match["path"])
            if content is None:
                print(f"{spec} has no {match['path']}", file=sys.stderr)
                return 1
            digest = "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()
            if digest != match["integrity"]:
                print(f"{match['url']}: {digest} is not the page's {match['integrity']}")
                return 1
            stem = package.replace("@", "").replace("/", "-")
            name = f"{stem}-{version}-{Path(match['path']).name}"
            (TARGET / name).write_bytes(content)
            meta = json.loads(member(archive, "package.json") or b"{}")
            licence_text = member(archive, "LICENSE")
            licence_file = None
            if licence_text is not None:
                licence_file = f"{stem}-{version}.LICENSE"
                (TARGET / licence_file).write_bytes(licence_text)
            assets.append(
                {
                    "url": match["url"],
                    "file": name,
                    "package": package,
                    "version": version,
                    "license": meta.get("license"),
                    "license_file": licence_file,
                    "integrity": match["integrity"],
                }
            )
    (TARGET / "assets.json").write_text(json.dumps(assets, indent=2) + "\n")
    for asset in assets:
        print(f"{asset['file']}  ({asset['package']} {asset['version']}, {asset['license']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build the sdist and wheel, check them, and try the wheel as a newcomer would: a clean venv,
`django-admin startproject mysite`, the README's snippets pasted in as they stand, `migrate`,
`check`, then uvicorn serving the project and one GraphQL request (and one GraphiQL file).

    .venv/bin/python tools/package_smoke.py [--python python3.12]

Exits non-zero, saying what went wrong, at the first step that fails. CI runs it (.ci/run).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> str:
    print("$", " ".join(str(a) for a in args), flush=True)
    done = subprocess.run(  # noqa: S603
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        sys.exit(f"FAIL ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def build(out: Path) -> tuple[Path, Path]:
    run(sys.executable, "-m", "build", "--outdir", out, ROOT, timeout=900)
    [wheel] = out.glob("*.whl")
    [sdist] = out.glob("*.tar.gz")
    run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    expect(any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "LICENSE in the wheel")
    expect("escalated/static/escalated/graphiql/assets.json" in names, "GraphiQL files in wheel")
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    top = members[0].split("/")[0]
    for needed in ("LICENSE", "README.md", "schema/escalated.graphql", "pyproject.toml"):
        expect(f"{top}/{needed}" in members, f"{needed} in the sdist")
    expect(not any(m.startswith(f"{top}/tests/") for m in members), "no partial test suite")
    return wheel, sdist


def expect(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"FAIL: expected {what}")
    print(f"ok: {what}")


def readme_snippets() -> dict[str, str]:
    """The README's code blocks for a startproject, by the file their first line names."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(# (mysite/\w+\.py)[^\n]*\n.*?)```", readme, re.S)
    snippets = {name: code for code, name in blocks}
    expect(
        set(snippets) == {"mysite/settings.py", "mysite/urls.py", "mysite/asgi.py"},
        "README snippets for settings.py, urls.py and asgi.py",
    )
    return snippets


def host_project(python: str, wheel: Path, work: Path) -> None:
    venv = work / "venv"
    run(python, "-m", "venv", venv)
    bin_ = venv / "bin"
    run(bin_ / "python", "-m", "pip", "install", "--quiet", wheel, "uvicorn", timeout=900)
    versions = run(bin_ / "python", "-c", "import django, escalated; print(django.__version__)")
    print("Django", versions.strip().splitlines()[-1])
    run(bin_ / "django-admin", "startproject", "mysite", cwd=work)
    project = work / "mysite"
    snippets = readme_snippets()
    settings = project / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + snippets["mysite/settings.py"])
    (project / "mysite" / "urls.py").write_text(snippets["mysite/urls.py"])
    (project / "mysite" / "asgi.py").write_text(snippets["mysite/asgi.py"])
    run(bin_ / "python", "manage.py", "migrate", "--noinput", cwd=project)
    checked = run(bin_ / "python", "manage.py", "check", cwd=project)
    expect("System check identified no issues" in checked, f"a clean check: {checked.strip()}")
    serve(bin_, project)


def serve(bin_: Path, project: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603
        [bin_ / "uvicorn", "mysite.asgi:application", "--fd", str(listener.fileno())],
        pass_fds=[listener.fileno()],
        cwd=project,
    )
    listener.close()
    try:
        body = json.dumps({"query": "{ viewer { role } }"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/support/graphql/",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        answer = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    answer = json.loads(response.read())
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit("FAIL: uvicorn exited")
                time.sleep(0.2)
        expect(answer == {"data": {"viewer": {"role": "ANONYMOUS"}}}, f"a GraphQL answer: {answer}")
        page = urllib.request.Request(
            f"http://127.0.0.1:{port}/support/graphql/", headers={"Accept": "text/html"}
        )
        with urllib.request.urlopen(page, timeout=10) as response:  # noqa: S310
            html = response.read().decode()
        asset = re.search(r'src="(/support/graphql/assets/[^"]+)"', html)
        expect(asset is not None and "unpkg.com" not in html, "GraphiQL loading its own files")
        assert asset is not None
        url = f"http://127.0.0.1:{port}{asset[1]}"
        with urllib.request.urlopen(url, timeout=10) as response:
            expect(response.status == 200, f"GraphiQL file served: {asset[1]}")
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="Interpreter of the clean venv.")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="escalated-smoke-") as scratch:
        work = Path(scratch)
        wheel, _sdist = build(work / "dist")
        host_project(options.python, wheel, work)
    print("package smoke test passed")


if __name__ == "__main__":
    main()

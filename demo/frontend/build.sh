#!/usr/bin/env bash
# Build the demo's support pages (dist/) when anything they are made of is newer than the build.
# On failure it prints one line saying why the pages are off and exits 1 (`make demo` then
# serves the API and GraphiQL only; `make demo-frontend` and CI fail).
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MANIFEST="$HERE/dist/.vite/manifest.json"
SOURCES=("$HERE/src" "$HERE/vite.config.js" "$HERE/package.json"
    "$HERE/package-lock.json" "$ROOT/frontend-adapter/src" "$ROOT/frontend-adapter/package.json")

off() {
    echo "The support pages are off ($*); the API and GraphiQL still answer at /support/graphql/." >&2
    exit 1
}

newer_than() {  # does anything in SOURCES change after $1?
    [ -e "$1" ] || return 0
    [ -n "$(find "${SOURCES[@]}" -newer "$1" -print -quit 2>/dev/null)" ]
}

newer_than "$MANIFEST" || exit 0
command -v node >/dev/null && command -v npm >/dev/null ||
    off "Node.js and npm are not installed: apt-get install nodejs npm, then make demo again"

cd "$HERE"
if newer_than node_modules/.package-lock.json; then
    "$ROOT/scripts/npm-install-escalated" "$HERE" ||
        off "npm could not install the Escalated package: see the npm error above"
fi
./node_modules/.bin/vite build --logLevel error ||
    off "the Vite build of demo/frontend failed: see above, or run cd demo/frontend && npm run build"
echo "Built the support pages into demo/frontend/dist/."

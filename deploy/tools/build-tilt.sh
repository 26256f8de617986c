#!/usr/bin/env bash
# Builds Tilt from the Go module proxy into ~/.cache/bazaar/bin/tilt (override with BAZAAR_CACHE).
# Why not `go install github.com/tilt-dev/tilt/cmd/tilt@…`: the proxy refuses the module's version
# list (403), which `go install pkg@version` needs for its deprecation check, and the module's go.mod
# has replace directives that `go install` refuses. So: a throwaway module that requires Tilt at a
# version the proxy serves, copies its replaces, and adds a placeholder web UI (the real one is
# built with yarn and is not in the module; without any, `tilt up`/`tilt ci` refuse to start). cgo is
# needed (go-tree-sitter). About 3-5 minutes the first time on 2 cores; cached afterwards.
set -euo pipefail
version="${TILT_VERSION:-v0.34.0}" # the newest release the proxy serves here (v0.34.1+ and v0.35.x: 403)
cache="${BAZAAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bazaar}"
bin="$cache/bin"
work="$cache/gobuild/tilt-$version"
if [[ -x "$bin/tilt" ]] && "$bin/tilt" version 2>/dev/null | grep -q "^${version}"; then
  echo "tilt $version already at $bin/tilt"
  exit 0
fi
mkdir -p "$bin" "$work"
cd "$work"
# The checksum database stays on (Go reaches it through the module proxy when sum.golang.org is not).
export GOFLAGS=-mod=mod CGO_ENABLED=1
[[ -f go.mod ]] || go mod init bazaar.local/tiltbuild >/dev/null 2>&1
go get "github.com/tilt-dev/tilt@$version"
src="$(go env GOMODCACHE)/github.com/tilt-dev/tilt@$version"
rm -rf tilt-src && cp -r "$src" tilt-src && chmod -R u+w tilt-src
cat > tilt-src/pkg/assets/build/index.html <<'HTML'
<!doctype html><title>Tilt</title><p>Tilt built from the Go module proxy without its web UI (its assets are not in the module). Use <code>tilt get uiresources</code>, <code>tilt logs</code>, <code>tilt ci</code>.</p>
HTML
go mod edit -replace "github.com/tilt-dev/tilt=./tilt-src"
# The replaces of Tilt's own go.mod (a dependency's replaces do not apply to the main module).
sed -n '/^replace (/,/^)/p' tilt-src/go.mod | grep '=>' | while read -r from _ to to_version; do
  go mod edit -replace "$from=$to@$to_version"
done
go build -ldflags "-X main.version=${version#v}" -o "$bin/tilt" github.com/tilt-dev/tilt/cmd/tilt
"$bin/tilt" version

#!/usr/bin/env bash
# Builds Consul v1.16.3 (MPL-2.0; later versions are BSL) from the Go module proxy, once, into a cache
# outside git. Plain `go install` refuses Consul's go.mod (replace/exclude lines), so it is built inside a
# throwaway module. Prints the binary's path.
set -euo pipefail
version="${CONSUL_VERSION:-1.16.3}"
cache="${BAZAAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bazaar}"
out="$cache/consul-$version/consul"
if [ -x "$out" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "consul: not found and Go is missing — install Go (>= 1.21) to build Consul $version, or put consul on PATH" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# The checksum database stays on (Go reaches it through the module proxy when sum.golang.org is not).
export GOFLAGS=-mod=mod GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
go mod init consulbuild >/dev/null 2>&1
go mod edit -go=1.21
cat >> go.mod <<MOD
exclude github.com/hashicorp/go-msgpack v1.1.5
exclude github.com/hashicorp/go-msgpack v1.1.6
MOD
build() {
  go get "github.com/hashicorp/consul@v$version" >&2 &&
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/consul" github.com/hashicorp/consul >&2
}
# Newer Go may refuse this older code; an older toolchain comes through the same proxy.
build || { echo "consul: retrying with go1.21.13" >&2; GOTOOLCHAIN=go1.21.13 build; }
mkdir -p "$(dirname "$out")"
mv "$work/consul" "$out"
echo "$out"

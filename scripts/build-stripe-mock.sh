#!/usr/bin/env bash
# Builds stripe-mock (MIT; Stripe's API mock, used by the payment service's Stripe gateway test) from the Go
# module proxy, once, into a cache outside git. Prints the binary's path.
set -euo pipefail
version="${STRIPE_MOCK_VERSION:-v0.203.0}"
cache="${BAZAAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bazaar}"
out="$cache/bin/stripe-mock"
if [ -x "$out" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "stripe-mock: not found and Go is missing — install Go to build it, or set STRIPE_MOCK_BIN" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The checksum database is not reachable for every module here (only the module proxy is).
export GOFLAGS=-mod=mod GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOSUMDB="${GOSUMDB:-off}" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
CGO_ENABLED=0 GOBIN="$work" go install -trimpath -ldflags "-s -w" "github.com/stripe/stripe-mock@$version" >&2
mkdir -p "$(dirname "$out")"
mv "$work/stripe-mock" "$out"
echo "$out"

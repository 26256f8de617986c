#!/usr/bin/env bash
# Builds Jaeger (Apache-2.0; an OTLP collector with in-memory trace storage, a query API and a web UI — the
# stack's local trace viewer) from the Go module proxy, once, into a cache outside git. Its go.mod has
# replace lines, so it is built as a tool of a throwaway module. Prints the binary's path.
set -euo pipefail
source "$(dirname "$0")/lib/go-install.sh"
version="${JAEGER_VERSION:-v1.75.0}"
go_build_module_cached jaeger github.com/jaegertracing/jaeger "$version" github.com/jaegertracing/jaeger/cmd/jaeger \
  "jaeger-$version/jaeger" JAEGER_BIN

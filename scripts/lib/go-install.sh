# Sourced by the build-*.sh scripts: `go_install_cached NAME MODULE VERSION PATH ENV_VAR` builds
# MODULE@VERSION with `go install` once into $BAZAAR_CACHE/PATH (default ~/.cache/bazaar, outside git)
# and prints the binary's path; ENV_VAR is what a user sets instead to use their own binary.
go_install_cached() {
  local name="$1" module="$2" version="$3" path="$4" env_var="$5"
  local cache="${BAZAAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bazaar}"
  local out="$cache/$path"
  if [ -x "$out" ]; then echo "$out"; return 0; fi
  command -v go >/dev/null || { echo "$name: not found and Go is missing — install Go to build $name $version, or set $env_var" >&2; return 1; }
  local work
  work=$(mktemp -d)
  # The checksum database stays on (Go reaches it through the module proxy when sum.golang.org is not).
  (
    export GOFLAGS=-mod=mod GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
    CGO_ENABLED=0 GOBIN="$work" go install -trimpath -ldflags "-s -w" "$module@$version" >&2
  ) || { rm -rf "$work"; return 1; }
  mkdir -p "$(dirname "$out")"
  mv "$work/$(basename "$module")" "$out"
  rm -rf "$work"
  echo "$out"
}

# `go_build_module_cached NAME MODULE VERSION PACKAGE PATH ENV_VAR` does the same for a program whose
# module `go install MODULE@VERSION` refuses (replace directives in its go.mod): it is added as a tool
# to a throwaway module (`go get -tool`) and built there, with the checksum database left on.
go_build_module_cached() {
  local name="$1" module="$2" version="$3" package="$4" path="$5" env_var="$6"
  local cache="${BAZAAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bazaar}"
  local out="$cache/$path"
  if [ -x "$out" ]; then echo "$out"; return 0; fi
  command -v go >/dev/null || { echo "$name: not found and Go is missing — install Go to build $name $version, or set $env_var" >&2; return 1; }
  local work
  work=$(mktemp -d)
  (
    cd "$work" &&
    export GOFLAGS=-mod=mod GOPROXY="${GOPROXY:-https://proxy.golang.org}" GOTOOLCHAIN="${GOTOOLCHAIN:-local}" &&
    go mod init "${name}build" >/dev/null 2>&1 &&
    go get -tool "$package@$version" >&2 &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/$name" "$package" >&2
  ) || { rm -rf "$work"; return 1; }
  mkdir -p "$(dirname "$out")"
  mv "$work/$name" "$out"
  rm -rf "$work"
  echo "$out"
}

#!/usr/bin/env bash
# Checks deploy/: that every Go-built tool is pinned with the checksum database on, builds every kustomize overlay and validates every object offline against the
# Kubernetes schemas and Bazaar's rules (deploy/check/validate.mjs), and lints deploy/Dockerfile.
# Also evaluates the Tiltfile in both modes if a tilt binary is around, and with --tilt-ci builds Tilt
# (if missing) and runs `tilt ci` in no-cluster mode (needs PostgreSQL/NATS/Consul or starts them). Runs on a fresh machine: what it needs is
# installed once, outside the repository, under ~/.cache/bazaar (override with BAZAAR_CACHE):
#   bin/kustomize             go install sigs.k8s.io/kustomize/kustomize/v5 (Go module proxy)
#   deploy-check/node_modules kubernetes-models, yaml, dockerfile-utils (npm registry)
# Exits non-zero on any problem.
set -euo pipefail

tilt_ci=0
for arg in "$@"; do
  case "$arg" in
    --tilt-ci) tilt_ci=1 ;;
    *) echo "usage: scripts/check-deploy.sh [--tilt-ci]" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${BAZAAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bazaar}"
bin="$cache/bin"
checkdir="$cache/deploy-check"
kustomize_version="v5.7.1" # v5.8 needs Go ≥ 1.27
validators=(kubernetes-models@5.1.0 yaml@2.9.1 dockerfile-utils@0.16.3)
overlays=(dev prod)

# The project's Node 24 (node_modules/.bin), not the machine's.
node="$root/node_modules/.bin/node"
[[ -x "$node" ]] || node="$(command -v node)"
npm_path="$(dirname "$(readlink -f "$node")")"

say() { printf 'check-deploy | %s\n' "$*"; }

mkdir -p "$bin" "$checkdir"
kustomize="$bin/kustomize"
if [[ ! -x "$kustomize" ]] || ! "$kustomize" version 2>/dev/null | grep -q "$kustomize_version"; then
  say "installing kustomize $kustomize_version into $bin (Go module proxy)"
  GOBIN="$bin" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version"
fi

stamp="$checkdir/.installed"
if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "${validators[*]}" ]]; then
  say "installing ${validators[*]} into $checkdir (npm registry)"
  # Installed beside and moved into place whole: a run interrupted (or racing another) never leaves a
  # stamped directory with half its modules.
  fresh="$(mktemp -d "$cache/deploy-check.XXXXXX")"
  echo '{"private":true}' > "$fresh/package.json"
  PATH="$npm_path:$PATH" npm install --prefix "$fresh" --no-audit --no-fund --no-save "${validators[@]}" >/dev/null
  echo "${validators[*]}" > "$fresh/.installed"
  rm -rf "$checkdir"
  mv -T "$fresh" "$checkdir" 2>/dev/null || rm -rf "$fresh"
fi

# Supply chain: every Go-built tool is pinned to a version and the Go checksum database stays on, in
# every script that builds one (the patterns are spelled in pieces so this file does not match itself).
go_scripts=("$root"/scripts/build-*.sh "$root"/scripts/lib/*.sh "$root"/scripts/check-deploy.sh "$root"/deploy/tools/*.sh "$root"/tools/stack/src/*.ts)
unpinned="@""latest|GO""SUMDB[=:]|GO""SUMDB:-|GONO""SUMDB|GONO""SUMCHECK|GO""INSECURE|-""insecure"
if grep -nE "$unpinned" "${go_scripts[@]}"; then
  say "✗ a Go tool is unpinned or built with the checksum database off (lines above)"
  exit 1
fi
say "✓ Go-built tools pinned, checksum database on ($(grep -lE 'go (install|get|build)' "${go_scripts[@]}" | wc -l) scripts)"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
rendered=()
for overlay in "${overlays[@]}"; do
  if ! "$kustomize" build "$root/deploy/overlays/$overlay" > "$out/$overlay.yaml" 2> "$out/$overlay.err"; then
    say "✗ kustomize build deploy/overlays/$overlay failed:"
    cat "$out/$overlay.err" >&2
    exit 1
  fi
  say "built deploy/overlays/$overlay ($(grep -c '^kind:' "$out/$overlay.yaml") objects)"
  rendered+=("$overlay=$out/$overlay.yaml")
done

"$node" "$root/deploy/check/validate.mjs" --modules "$checkdir" --dockerfile "$root/deploy/Dockerfile" "${rendered[@]}"

# The Tiltfile evaluates in both modes (`tilt alpha tiltfile-result` loads it without starting
# anything; kustomize on PATH for the cluster mode's kustomize()). With --tilt-ci, Tilt is built if
# missing (deploy/tools/build-tilt.sh) and `tilt ci -- --local` brings every service up, healthy.
tilt="${TILT:-$bin/tilt}"
if [[ "$tilt_ci" == 1 && ! -x "$tilt" ]]; then
  say "building Tilt from the Go module proxy (deploy/tools/build-tilt.sh)"
  bash "$root/deploy/tools/build-tilt.sh"
fi
if [[ -x "$tilt" ]]; then
  for mode in local cluster; do
    if (cd "$root" && PATH="$bin:$PATH" "$tilt" alpha tiltfile-result -- "--$mode" > "$out/tilt-$mode.json" 2> "$out/tilt-$mode.err"); then
      say "✓ Tiltfile evaluates ($mode mode): $("$node" -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(r.Manifests.map((m) => m.Name).join(", "))' < "$out/tilt-$mode.json")"
    else
      say "✗ Tiltfile does not evaluate ($mode mode):"
      cat "$out/tilt-$mode.err" >&2
      exit 1
    fi
  done
  if [[ "$tilt_ci" == 1 ]]; then
    say "tilt ci (no-cluster mode): every service up and passing in Consul"
    (cd "$root" && "$tilt" ci --port "${TILT_PORT:-10399}" --timeout "${TILT_CI_TIMEOUT:-5m}" -- --local)
    say "✓ tilt ci passed"
  fi
else
  say "tilt not installed at $tilt: Tiltfile not evaluated (run with --tilt-ci to build it)"
fi
say "all deploy checks passed"

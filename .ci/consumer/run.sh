#!/usr/bin/env bash
# The package as its users get it, run by .ci/run after `npm test` (which built dist/):
#   1. `npm pack` makes the tarball (prepack builds it): under 5 MB, nothing but what the package ships;
#   2. a platform team's own TypeScript CDK app (this folder's template, in a temporary folder)
#      installs the tarball without the optional dependencies, and synthesizes a stack holding the
#      construct under ts-node and compiled with tsc: no esbuild, no Docker, no DuckDB, no tsx;
#   3. the same app with the package installed by path (a symlink, as a workspace makes);
#   4. `npm install -g <tarball>` gives the `redshift-archive` command, which reads the demo's
#      archive (`npm run demo`) and starts with no npm in between;
#   5. this repository cloned and installed with `npm ci --omit=dev` synthesizes with the CDK CLI
#      available, but only when given a configuration.
# Each check prints "ok - ..." or "not ok - ..."; the counts go to the file named by $1.
# Only the npm registry is reached (through npm's cache), for the consumer's own dependencies.
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
counts="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() {
  echo "ok - $*"
  passed=$((passed + 1))
}
fail() {
  echo "not ok - $*"
  failed=$((failed + 1))
}
# Milliseconds since the epoch, and seconds since such a time, for the figures.
now() { date +%s%3N; }
since() { awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%.1f s", (t1 - t0) / 1000 }'; }
npm_install() { npm install --no-audit --no-fund --prefer-offline "$@" >"$work/npm.log" 2>&1 || cat "$work/npm.log"; }
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
started=$(now)

# 1. The tarball.
(cd "$repo" && npm pack --pack-destination "$work" >"$work/pack.log" 2>&1) || cat "$work/pack.log"
tarball="$(ls "$work"/redshift-archive-*.tgz 2>/dev/null)"
if [ -z "$tarball" ]; then
  fail "npm pack made no tarball"
  echo "$passed $failed" >"$counts"
  exit 1
fi
bytes=$(stat -c %s "$tarball")
files="$(tar -tzf "$tarball" | sed 's#^package/##')"
unexpected="$(echo "$files" | grep -Ev '^(package\.json|README\.md|CHANGELOG\.md|LICENSE|bin/redshift-archive\.js|dist/cli\.js|dist/handlers/[a-z-]+/index\.js(\.map)?|dist/(lib|src)/.+\.(js|d\.ts))$')"
if ((bytes < 5 * 1024 * 1024)) && [ -z "$unexpected" ]; then
  ok "npm pack: $(basename "$tarball"), $((bytes / 1024)) KiB, $(echo "$files" | wc -l) files, no tests, bench or sources"
else
  fail "npm pack: $bytes bytes (allowed: under 5 MB); files it should not hold: ${unexpected:-none}"
fi

# 2. A consumer's app, from the tarball, without the optional dependencies.
app="$work/app"
cp -r "$repo/.ci/consumer" "$app"
cp "$repo/config/contabyx.json" "$app/archive.json"
cd "$app" || exit 1
npm_install --omit=optional "$tarball"
if [ -e node_modules/esbuild ] || [ -e node_modules/tsx ] || [ -e node_modules/@duckdb ]; then
  fail "the consumer's install holds esbuild, tsx or DuckDB: $(ls -d node_modules/esbuild node_modules/tsx node_modules/@duckdb 2>/dev/null)"
else
  ok "the consumer installs the construct without esbuild, tsx or DuckDB ($(du -shc node_modules/redshift-archive node_modules/zod | tail -1 | cut -f1) for redshift-archive and zod)"
fi
synth() { # synth <label> <app command> <outdir>
  local t0
  t0=$(now)
  if npx cdk synth --quiet -a "$2" -o "$3" >"$work/synth.log" 2>&1 &&
    node check-template.js "$3/DataPlatform.template.json" archive.json; then
    ok "$1: synthesizes the archive (bucket, Glue tables, function, yearly rule) in $(since "$t0")"
  else
    cat "$work/synth.log"
    fail "$1: synth"
  fi
}
codeOf() { grep -o '"S3Key": "[^"]*"' "$1/DataPlatform.template.json" | sort; }
synth 'tarball, ts-node' 'npx ts-node --prefer-ts-exts bin/app.ts' out-ts-node
t0=$(now)
if npx tsc >"$work/tsc.log" 2>&1; then
  ok "tarball, tsc: the app compiles against the package's declarations (skipLibCheck off) in $(since "$t0")"
  synth 'tarball, compiled with tsc' 'node bin/app.js' out-tsc
else
  cat "$work/tsc.log"
  fail "tarball, tsc: the app does not compile"
fi

# 3. The same app with the package installed by path: a symlink to this checkout.
npm_install "$repo"
if [ -L node_modules/redshift-archive ]; then
  synth 'path install (symlink), compiled with tsc' 'node bin/app.js' out-path
else
  fail "npm install <path> made no symlink"
fi
if [ -n "$(codeOf out-tsc)" ] && [ "$(codeOf out-tsc)" = "$(codeOf out-ts-node)" ] && [ "$(codeOf out-tsc)" = "$(codeOf out-path)" ]; then
  ok "the functions' code assets have the same hashes from the tarball (ts-node, tsc) and by path"
else
  fail "the functions' code assets differ between the tarball and the path install"
fi

# 4. The command, installed globally from the tarball (with its optional dependencies).
global="$work/global"
npm_install -g --prefix "$global" "$tarball"
command="$global/bin/redshift-archive"
version="$(node -p "require('$repo/package.json').version")"
if [ "$("$command" --version 2>&1)" = "redshift-archive $version" ]; then
  ok "npm install -g: redshift-archive --version answers $version"
else
  fail "npm install -g: redshift-archive --version answers $("$command" --version 2>&1)"
fi
(cd "$repo" && npm run demo >"$work/demo.log" 2>&1) || cat "$work/demo.log"
demo=(--config "$repo/config/contabyx.json" --local "$repo/.demo/warehouse.duckdb" --lake "$repo/.demo/lake")
if "$command" audit --deep "${demo[@]}" >"$work/audit.log" 2>&1; then
  times=()
  for _ in 1 2 3 4 5; do
    t0=$(now)
    "$command" status "${demo[@]}" >/dev/null 2>&1
    times+=($(($(now) - t0)))
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  ok "the installed command audits the demo's archive ($(tail -1 "$work/audit.log")); status starts and answers in $median ms (median of 5: ${times[*]})"
else
  cat "$work/audit.log"
  fail "the installed command: audit --deep on the demo's archive"
fi

# 5. This repository, installed lean, with the CDK CLI of the consumer's app.
cdk="$app/node_modules/.bin/cdk"
lean="$work/lean"
git clone -q "$repo" "$lean"
cd "$lean" || exit 1
npm ci --omit=dev --no-audit --no-fund >"$work/npm.log" 2>&1 || cat "$work/npm.log"
if "$cdk" synth --quiet -o "$work/lean-out" >"$work/synth.log" 2>&1; then
  fail "npm ci --omit=dev: cdk synth without -c config synthesized"
elif grep -q 'context config (cdk synth -c config=FILE): is missing' "$work/synth.log"; then
  ok "npm ci --omit=dev: cdk synth without -c config refuses, naming -c config=sample"
else
  cat "$work/synth.log"
  fail "npm ci --omit=dev: cdk synth without -c config failed for another reason"
fi
if "$cdk" synth --quiet -c config=sample -o "$work/lean-out" >"$work/synth.log" 2>&1 &&
  grep -q 'cdk-nag is not installed' "$work/synth.log" && [ -f "$work/lean-out/RedshiftArchive.template.json" ]; then
  ok "npm ci --omit=dev: cdk synth -c config=sample synthesizes, saying that cdk-nag is not installed"
else
  cat "$work/synth.log"
  fail "npm ci --omit=dev: cdk synth -c config=sample"
fi

echo "package checks: $passed passed, $failed failed, in $(since "$started")"
echo "$passed $failed" >"$counts"
((failed == 0))

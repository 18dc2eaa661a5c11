#!/usr/bin/env bash
# mcp-inspector.sh drives `skills mcp` (stdio) with the CLI mode of the MCP
# Inspector (npm package @modelcontextprotocol/inspector), a client written
# with the official TypeScript SDK: it lists and calls the tools of a fresh
# skills home holding wordcount (wasm, from the bundled registry) and guide
# (an instructions skill, published into a local registry), checks the error
# of a call with bad arguments, and lists and gets the prompt of guide.
#
# Usage: scripts/mcp-inspector.sh [SKILLS_BINARY]
#   SKILLS_BINARY  the skills CLI to test; default: built from this checkout.
# Environment:
#   MCP_INSPECTOR_VERSION  npm version to install (default 0.15.0, the newest
#                          that runs on Node 20; later ones need Node 22)
#   MCP_INSPECTOR_DIR      where npm installs it (default: a cache folder,
#                          reused across runs)
#
# Exit status: 0 when every check passes, or when the inspector cannot be had
# (no npm, or npm install fails: the reason is printed, starting "SKIP:");
# 1 when the inspector ran and a check failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${MCP_INSPECTOR_VERSION:-0.15.0}
cache=${MCP_INSPECTOR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/skills/mcp-inspector-$version}

skip() { echo "mcp-inspector: SKIP: $*"; exit 0; }
fail() { echo "mcp-inspector: FAIL: $*" >&2; exit 1; }

command -v npm >/dev/null 2>&1 || skip "npm is not installed"
command -v node >/dev/null 2>&1 || skip "node is not installed"

inspector=$cache/node_modules/.bin/mcp-inspector
if [ ! -x "$inspector" ]; then
	mkdir -p "$cache"
	echo "mcp-inspector: installing @modelcontextprotocol/inspector@$version into $cache"
	if ! log=$(npm install --prefix "$cache" --no-audit --no-fund --loglevel=error \
		"@modelcontextprotocol/inspector@$version" 2>&1); then
		printf '%s\n' "$log" | tail -n 20
		skip "npm could not install @modelcontextprotocol/inspector@$version (offline, or the registry refused)"
	fi
	[ -x "$inspector" ] || skip "npm installed @modelcontextprotocol/inspector@$version but it has no mcp-inspector command"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

skills=${1:-}
if [ -z "$skills" ]; then
	(cd "$root" && go build -o "$tmp/skills" ./cmd/skills) || fail "go build ./cmd/skills failed"
	skills=$tmp/skills
fi
[ -x "$skills" ] || fail "$skills is not an executable"

home=$tmp/home
sk() { "$skills" --home "$home" "$@"; }
setup() {
	sk install wordcount &&
		sk keygen ci --out "$tmp/keys" &&
		sk publish "$root/mcpserver/testdata/guide" --registry "$tmp/registry" --key "$tmp/keys/ci.key" &&
		sk registry add local "$tmp/registry" --key "$tmp/keys/ci.pub" &&
		sk install guide
}
if ! log=$(setup 2>&1); then
	printf '%s\n' "$log"
	fail "could not set up a skills home with wordcount and guide"
fi

# check NAME PATTERN... -- INSPECTOR ARGS: runs the inspector against
# `skills mcp` and requires every PATTERN (fixed strings) in its output.
check() {
	local name=$1
	shift
	local patterns=()
	while [ "$1" != "--" ]; do
		patterns+=("$1")
		shift
	done
	shift
	local out
	if ! out=$(timeout 120 "$inspector" --cli "$skills" --home "$home" mcp --workspace "$tmp" "$@" 2>&1); then
		fail "$name: the inspector failed:"$'\n'"$out"
	fi
	for p in "${patterns[@]}"; do
		grep -qF -- "$p" <<<"$out" || fail "$name: the output lacks $p:"$'\n'"$out"
	done
	echo "mcp-inspector: ok: $name"
}

check "tools/list lists wordcount with its schema" '"name": "wordcount"' '"required": [' -- \
	--method tools/list
check "tools/call wordcount" '"words": 6' '"word": "be"' -- \
	--method tools/call --tool-name wordcount --tool-arg 'text=to be or not to be' --tool-arg top=2
check "tools/call with bad arguments is a typed error" '"isError": true' 'invalid_input' 'missing required property' -- \
	--method tools/call --tool-name wordcount --tool-arg top=2
check "prompts/list lists the instructions skill" '"name": "guide"' -- \
	--method prompts/list
check "prompts/get returns its instructions" 'Writing a release note' 'scripts/changes.sh' 'Skill folder:' -- \
	--method prompts/get --prompt-name guide
echo "mcp-inspector: all checks passed (@modelcontextprotocol/inspector@$version)"

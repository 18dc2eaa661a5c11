#!/usr/bin/env bash
# bundle-registry.sh publishes every skill in skills/ into the bundled
# registry, registry/, signed with the bundled key registry/keys/bundled.key.
#
#   scripts/bundle-registry.sh          publish the skills whose version is not
#                                       in registry/index.json yet
#   scripts/bundle-registry.sh --check  rebuild every skill into a scratch
#                                       registry and compare its packages byte
#                                       for byte with the committed ones
#
# Published versions are immutable: a skill whose version is already in the
# index is skipped (skills publish --skip-existing) and never re-published, so
# re-running the script changes nothing unless a skill got a new version. A
# skill whose sources changed needs a new metadata.version in its SKILL.md;
# --check finds the ones that changed without one (builds are reproducible:
# the same sources and Go version give the same bytes, so a difference means
# changed sources or another Go version).
#
# Plugin skills are built for linux/amd64 only, stripped and gzip-compressed.
# The index expires 10 years after the last publish: the bundled registry
# works offline from a fresh clone, and an index that expired would make
# every install from it fail (see registry/README.md).
set -euo pipefail

cd "$(dirname "$0")/.."
registry=registry
key=$registry/keys/bundled.key
expires=87600h # 10 years

check=false
case "${1:-}" in
"") ;;
--check) check=true ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
go build -o "$scratch/skills" ./cmd/skills
skills=$scratch/skills

dirs=()
for d in skills/*/; do
	if [ -f "$d/SKILL.md" ]; then
		dirs+=("${d%/}")
	fi
done
if [ ${#dirs[@]} -eq 0 ]; then
	echo "no skills found in skills/" >&2
	exit 1
fi

if $check; then
	"$skills" keygen scratch --out "$scratch" >/dev/null 2>&1
	"$skills" publish --registry "$scratch/registry" --key "$scratch/scratch.key" "${dirs[@]}" >/dev/null
	status=0
	for f in $(cd "$scratch/registry" && find artifacts -type f | sort); do
		if [ ! -f "$registry/$f" ]; then
			echo "not published yet: $f (run $0)"
			status=1
		elif ! cmp -s "$scratch/registry/$f" "$registry/$f"; then
			echo "changed without a version bump (or built with another Go version): $f"
			status=1
		else
			echo "unchanged: $f"
		fi
	done
	exit $status
fi

if [ ! -f "$key" ]; then
	if [ -f "$registry/index.json" ]; then
		echo "$key is missing but $registry/index.json exists: restore the key (a new one would re-key the registry)" >&2
		exit 1
	fi
	# First run: create the bundled key pair. The verifier key goes next to
	# the index, where clients (registry/embed.go) find it.
	mkdir -p "$registry/keys"
	"$skills" keygen bundled --out "$registry/keys" >/dev/null
	mv "$registry/keys/bundled.pub" "$registry/bundled.pub"
fi
# Git does not keep file modes other than the executable bit, and the key
# reader refuses a signer key that others can read.
chmod 600 "$key"

"$skills" publish --skip-existing --expires "$expires" --registry "$registry" --key "$key" "${dirs[@]}"

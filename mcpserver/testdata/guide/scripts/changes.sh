#!/bin/sh
# Lists the commits since the last tag, one per line.
set -eu
git log --oneline "$(git describe --tags --abbrev=0)..HEAD"

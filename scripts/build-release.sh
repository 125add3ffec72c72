#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# build-release.sh VERSION: build release VERSION of xdplb from this
# repository's own history (the commit RELEASES names for it), for the
# upgrade tests. Prints the path of its binary, build/releases/VERSION/xdplb;
# a binary already built from that commit is reused.
#
# The commit comes from the clone itself (git tags may not travel with it);
# a shallow clone that lacks it is deepened from its origin first. Nothing
# is downloaded but that; the build uses the machine's packages, as `make`
# does.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
version=${1:?usage: build-release.sh VERSION}
commit=$(awk -v v="$version" '!/^#/ && $1 == v { print $2 }' "$repo/RELEASES")
[[ -n $commit ]] || { echo "build-release: no release '$version' in RELEASES" >&2; exit 1; }

dest=$repo/build/releases/$version
if [[ -x $dest/xdplb && $(cat "$dest/commit" 2>/dev/null) == "$commit" ]]; then
	echo "$dest/xdplb"
	exit 0
fi

cd "$repo"
if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
	git fetch -q --depth=2147483647 origin 2>/dev/null ||
		git fetch -q origin "$commit" 2>/dev/null || true
	git cat-file -e "$commit^{commit}" 2>/dev/null || {
		echo "build-release: commit $commit of $version is not in this clone" >&2
		exit 1
	}
fi

src=$(mktemp -d "$repo/build/release-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
git archive "$commit" | tar -x -C "$src"
if ! make -C "$src" build/xdplb >"$src.log" 2>&1; then
	echo "build-release: make of $version failed: $(tail -n 1 "$src.log")" >&2
	rm -f "$src.log"
	exit 1
fi
rm -f "$src.log"
mkdir -p "$dest"
install -m 0755 "$src/build/xdplb" "$dest/xdplb"
echo "$commit" >"$dest/commit"
echo "$dest/xdplb"

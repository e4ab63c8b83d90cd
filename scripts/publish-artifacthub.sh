#!/usr/bin/env bash
# Lays out one release's Artifact Hub package in a checkout of the
# `artifacthub` branch (the release workflow's last job):
#
#   scripts/publish-artifacthub.sh PACKAGE VERSION DEST
#
#   DEST/artifacthub-repo.yml          the repository file (artifacthub/artifacthub-repo.yml)
#   DEST/VERSION/artifacthub-pkg.yml   PACKAGE, generated for the tag by `make artifacthub`
#   DEST/VERSION/README.md             the README of the tag
#
# Refuses a package whose version is not VERSION, and a VERSION already
# published with other contents (a release is never rewritten).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -eq 3 ] || { echo "usage: $0 PACKAGE VERSION DEST" >&2; exit 2; }
package=$1 version=$2 dest=$3

[ -f "$package" ] || { echo "$package: no such file (make artifacthub writes it)" >&2; exit 1; }
[ -d "$dest" ] || { echo "$dest: not a directory (a checkout of the artifacthub branch)" >&2; exit 1; }
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "$version: not a version X.Y.Z" >&2; exit 1; }
package_version=$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$package" | head -n 1)
[ "$package_version" = "$version" ] || {
    echo "$package is for version ${package_version:-<none>}, not $version: run make artifacthub on the tag" >&2
    exit 1
}

folder=$dest/$version
if [ -e "$folder/artifacthub-pkg.yml" ] && ! cmp -s "$package" "$folder/artifacthub-pkg.yml"; then
    echo "$folder/artifacthub-pkg.yml exists with other contents: version $version is already published" >&2
    exit 1
fi
mkdir -p "$folder"
cp artifacthub/artifacthub-repo.yml "$dest/artifacthub-repo.yml"
cp "$package" "$folder/artifacthub-pkg.yml"
cp README.md "$folder/README.md"
echo "artifacthub branch: $version/artifacthub-pkg.yml, $version/README.md, artifacthub-repo.yml"

#!/bin/sh
# `make web-assets` (with fetch_assets.sh): fetch the pinned Leaflet package from the npm
# registry and copy its built files and licence into api/web/static/vendor/leaflet/. The copy is
# committed, so the maps work offline and `make demo` / `make test` need nothing from npm.
set -eu
LEAFLET=1.9.4
here=$(cd "$(dirname "$0")" && pwd)
target="$here/static/vendor/leaflet"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "leaflet@$LEAFLET" >/dev/null
tar xzf "leaflet-$LEAFLET.tgz"
rm -rf "$target"
mkdir -p "$target/images"
cp package/dist/leaflet.js package/dist/leaflet.css package/package.json "$target/"
cp package/dist/images/* "$target/images/"
cp package/LICENSE "$target/LICENSE"

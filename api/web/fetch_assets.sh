#!/bin/sh
# `make web-assets`: fetch the pinned front-end packages from the npm registry and copy the built
# files the pages use into api/web/static/vendor/ and api/web/static/assets/ (fonts and images,
# where the packages' compiled CSS looks for them). The copies are committed, so `make demo` and
# `make test` need nothing from npm; tests/web/test_assets.py checks versions and licences.
set -eu
GOVUK_FRONTEND=6.3.0   # the version govuk-frontend-jinja 4.1.0 is written for
MOJ_FRONTEND=11.1.0    # peer dependency govuk-frontend ^6
here=$(cd "$(dirname "$0")" && pwd)
static="$here/static"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "govuk-frontend@$GOVUK_FRONTEND" "@ministryofjustice/frontend@$MOJ_FRONTEND" >/dev/null
mkdir govuk moj
tar xzf "govuk-frontend-$GOVUK_FRONTEND.tgz" -C govuk
tar xzf "ministryofjustice-frontend-$MOJ_FRONTEND.tgz" -C moj
rm -rf "$static/vendor/govuk-frontend" "$static/vendor/moj-frontend" "$static/assets"
mkdir -p "$static/vendor/govuk-frontend" "$static/vendor/moj-frontend" "$static/assets/images"
g=govuk/package
m=moj/package
cp "$g/dist/govuk/govuk-frontend.min.css" "$g/dist/govuk/govuk-frontend.min.js" "$g/package.json" \
  "$static/vendor/govuk-frontend/"
cp "$m/moj/moj-frontend.min.css" "$m/moj/moj-frontend.min.js" "$m/package.json" "$static/vendor/moj-frontend/"
cp -R "$g/dist/govuk/assets/fonts" "$static/assets/"
cp "$g/dist/govuk/assets/manifest.json" "$static/assets/"
cp "$g"/dist/govuk/assets/images/* "$static/assets/images/"
cp "$m"/moj/assets/images/* "$static/assets/images/"
cp "$here/licences/govuk-frontend.txt" "$static/vendor/govuk-frontend/LICENCE.txt"
cp "$here/licences/moj-frontend.txt" "$static/vendor/moj-frontend/LICENCE.txt"

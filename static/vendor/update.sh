#!/usr/bin/env bash
# Copies the front-end packages from the npm registry into static/vendor/,
# so that pages never depend on a CDN. Run through `make vendor`; the result
# is committed, with the versions recorded in VERSIONS.txt.
set -euo pipefail
cd "$(dirname "$0")"
packages=(bootstrap@5.3.9 htmx.org@2.0.11 socket.io-client@4.8.4 chart.js@4.6.1 vazirmatn@33.0.3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in "${packages[@]}"; do
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
done
for tgz in "$work"/*.tgz; do
  name=$(basename "$tgz" .tgz)
  mkdir -p "$work/$name" && tar xzf "$tgz" -C "$work/$name"
done
rm -rf bootstrap htmx socket.io chart.js vazirmatn
mkdir -p bootstrap htmx socket.io chart.js vazirmatn/fonts
cp "$work"/bootstrap-*/package/dist/css/bootstrap.min.css \
   "$work"/bootstrap-*/package/dist/css/bootstrap.rtl.min.css \
   "$work"/bootstrap-*/package/dist/js/bootstrap.bundle.min.js \
   "$work"/bootstrap-*/package/LICENSE bootstrap/
cp "$work"/htmx.org-*/package/dist/htmx.min.js "$work"/htmx.org-*/package/LICENSE htmx/
cp "$work"/socket.io-client-*/package/dist/socket.io.min.js "$work"/socket.io-client-*/package/LICENSE socket.io/
cp "$work"/chart.js-*/package/dist/chart.umd.min.js "$work"/chart.js-*/package/LICENSE.md chart.js/
cp "$work"/vazirmatn-*/package/fonts/webfonts/'Vazirmatn[wght].woff2' vazirmatn/fonts/Vazirmatn-Variable.woff2
cp "$work"/vazirmatn-*/package/OFL.txt vazirmatn/
cat > vazirmatn/vazirmatn.css <<'CSS'
@font-face {
  font-family: 'Vazirmatn';
  src: url('fonts/Vazirmatn-Variable.woff2') format('woff2-variations'),
       url('fonts/Vazirmatn-Variable.woff2') format('woff2');
  font-weight: 100 900;
  font-style: normal;
  font-display: swap;
}
CSS
printf '%s\n' "# Front-end packages copied from the npm registry by update.sh" "${packages[@]}" > VERSIONS.txt
echo "vendored: ${packages[*]}"

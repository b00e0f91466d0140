#!/bin/sh
# Rebuild kg/serve/static/sparql-editor.js (and its licence file) from src/editor.js and the npm packages pinned
# in package-lock.json. Needs node >= 18 and npm; installs into a temporary directory, so no node_modules is
# left in the served static folder. Run from anywhere: kg/serve/static/editor/build.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/"
cp -r "$here/src" "$work/src"
cd "$work"
npm ci --no-audit --no-fund --loglevel=error
npx esbuild src/editor.js --bundle --minify --format=iife --global-name=KGSparqlEditor --target=es2020 \
  --legal-comments=none --charset=utf8 \
  --banner:js="/* GIDE KG SPARQL editor: CodeMirror 6 (MIT), built by kg/serve/static/editor/build.sh; licences in sparql-editor.LICENSE.txt */" \
  --metafile=meta.json --outfile="$out/sparql-editor.js"
# Licence texts of every package that ends up in the bundle.
node -e '
const fs = require("fs"), path = require("path");
const meta = JSON.parse(fs.readFileSync("meta.json", "utf8"));
const pkgs = new Set();
for (const input of Object.keys(meta.outputs[Object.keys(meta.outputs)[0]].inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) pkgs.add(m[1]);
}
let text = "Third-party code bundled in sparql-editor.js (built by kg/serve/static/editor/build.sh)\n";
for (const name of [...pkgs].sort()) {
  const dir = path.join("node_modules", name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const lic = fs.readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  text += "\n==== " + name + " " + pkg.version + " (" + pkg.license + ")\n\n" + (lic ? fs.readFileSync(path.join(dir, lic), "utf8").trim() + "\n" : "");
}
fs.writeFileSync(process.argv[1], text);
' "$out/sparql-editor.LICENSE.txt"
ls -l "$out/sparql-editor.js" "$out/sparql-editor.LICENSE.txt"

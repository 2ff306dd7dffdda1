#!/bin/sh
# Shell completions (bash, zsh, fish) and man pages for kioskctl, generated from the command
# definitions by swift-argument-parser (docs/KIOSKCTL.md, "Shell completions and man pages").
#   scripts/gen-cli-docs.sh [OUTPUT-FOLDER]      (default: .build/cli-docs)
# Writes OUTPUT/completions/{kioskctl.bash,_kioskctl,kioskctl.fish} and OUTPUT/man/kioskctl*.1.
# Env: CONFIGURATION=release|debug (default release, what the package ships), SWIFT (default swift).
# Offline: the generate-manual plugin comes with swift-argument-parser, already a dependency.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-.build/cli-docs}
CONFIGURATION=${CONFIGURATION:-release}
SWIFT=${SWIFT:-swift}

$SWIFT build -c "$CONFIGURATION" --product kioskctl
BIN=$($SWIFT build -c "$CONFIGURATION" --show-bin-path)/kioskctl

rm -rf "$OUT/completions" "$OUT/man"
mkdir -p "$OUT/completions" "$OUT/man"
"$BIN" --generate-completion-script bash >"$OUT/completions/kioskctl.bash"
"$BIN" --generate-completion-script zsh >"$OUT/completions/_kioskctl"
"$BIN" --generate-completion-script fish >"$OUT/completions/kioskctl.fish"

# The plugin builds every product in $CONFIGURATION, then runs generate-manual on each
# executable that uses ArgumentParser; only kioskctl's pages are kept. --disable-sandbox: the
# plugin runs the built tool, which the sandbox (where one exists) would refuse.
$SWIFT package --disable-sandbox plugin generate-manual --configuration "$CONFIGURATION" --multi-page \
    --authors "kiosk-agent" >/dev/null
PAGES=.build/plugins/GenerateManual/outputs/kioskctl
[ -d "$PAGES" ] || { echo "gen-cli-docs: the generate-manual plugin wrote no pages to $PAGES" >&2; exit 1; }
cp "$PAGES"/*.1 "$OUT/man/"

for f in "$OUT/completions/kioskctl.bash" "$OUT/completions/_kioskctl" "$OUT/completions/kioskctl.fish" "$OUT/man/kioskctl.1"; do
    [ -s "$f" ] || { echo "gen-cli-docs: $f is empty" >&2; exit 1; }
done
echo "kioskctl completions in $OUT/completions, $(ls "$OUT/man" | wc -l) man pages in $OUT/man"

#!/bin/bash
# scripts/vhw/test-summary.sh LOG-FOLDER
# The closing block of `make test`: how many tests ran in each stage, from the output the Makefile
# kept with tee (host.log, schemathesis.log, hardware.log, package.log) and each stage's exit
# status (*.rc).
# A stage that passed with few tests looks the same as one that passed with many in a scrolled-by
# log; this block makes a stage that ran nothing (or skipped its tests) visible at the end.
# Exit status: 0 when every stage exited 0.
set -u
D=${1:?usage: test-summary.sh LOG-FOLDER}
rc() { local r; r=$(cat "$D/$1.rc" 2>/dev/null); echo "${r:-not run}"; }
verdict() { case "$1" in 0) echo ok ;; "not run") echo "NOT RUN" ;; *) echo "FAILED (exit $1)" ;; esac; }
status=0
hp=0 hf=0 hs=0

# Swift Testing's own lines: "Test run with N tests in M suites passed|failed after …" counts the
# skipped tests too; "➜ Test … skipped" and "✘ Test … failed after" name them one by one.
host=$(rc host)
if [ -s "$D/host.log" ]; then
    total=$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} .*/\1/p' "$D/host.log" | tail -n 1)
    skipped=$(grep -c '^➜ Test .* skipped' "$D/host.log")
    failed=$(grep -E '^✘ Test .* failed after' "$D/host.log" | grep -vc '^✘ Test run with')
    if [ -n "$total" ]; then
        hp=$((total - skipped - failed)) hf=$failed hs=$skipped
        host_line="$hp passed, $failed failed, $skipped skipped (of $total)"
    else
        host_line="no closing 'Test run with N tests' line (the run did not finish)"
    fi
else
    host_line="no output"
fi

# schemathesis prints "N generated, N passed[, N found N unique failures], N skipped" per run (two
# runs: revokeToken last); scripts/schemathesis.sh adds "checks (N): …" and the stateful scenarios.
schema=$(rc schemathesis)
schema_line=$(awk '/[0-9]+ generated/ {
        for (i = 1; i <= NF; i++) { gsub(/,/, "", $i); if ($(i+1) ~ /^generated/) g += $i; if ($(i+1) ~ /^passed/) p += $i
                                    if ($(i+1) ~ /^(failed|unique)/) f += $i; if ($(i+1) ~ /^skipped/) s += $i }
        runs++ }
    /^schemathesis.sh: checks \(/ { sub(/.*checks \(/, ""); sub(/\).*/, ""); checks = $0 }
    /stateful scenarios/ { for (i = 1; i <= NF; i++) if ($(i+1) == "stateful") st = $i }
    END { if (runs) printf "%d cases generated: %d passed, %d failed, %d skipped (%d runs)%s%s", g, p, f, s, runs,
                           (st != "" ? ", " st " stateful scenarios" : ""), (checks != "" ? "; " checks " checks" : "")
          else print "no case counts in its output" }' "$D/schemathesis.log" 2>/dev/null)

hw=$(rc hardware)
hw_line=$(grep -E '^hardware: [0-9]+ passed' "$D/hardware.log" 2>/dev/null | tail -n 1)
hw_line=${hw_line#hardware: }
grep -q 'VIRTUAL-HARDWARE STAGE SKIPPED' "$D/hardware.log" 2>/dev/null && hw_line="$hw_line — SKIPPED BY CHOICE (KIOSK_SKIP_VM=1)"

# The Debian packages: KIOSK_DEB_CONFIG=debug packaging/build-deb.sh, then run-package-stage.sh,
# whose closing line is "package: N passed, N failed, N skipped" (docs/PACKAGING.md).
pkg=$(rc package)
pkg_line=$(grep -E '^package: [0-9]+ passed' "$D/package.log" 2>/dev/null | tail -n 1)
pkg_line=${pkg_line#package: }
# No closing line and no second package: build-deb.sh stopped before the stage could run.
[ -z "$pkg_line" ] && [ -s "$D/package.log" ] && ! grep -q '^deb: built .*aidee-sim' "$D/package.log" 2>/dev/null &&
    pkg_line="packages not built: packaging/build-deb.sh failed (its 'deb:' lines in package.log)"
grep -q 'PACKAGE STAGE: the install/upgrade/purge checks in the VM were SKIPPED' "$D/package.log" 2>/dev/null &&
    pkg_line="$pkg_line — VM PART SKIPPED BY CHOICE (KIOSK_SKIP_VM=1)"

echo
echo "================================ make test: summary ================================"
printf '  %-24s %-16s %s\n' "Swift host suites" "$(verdict "$host")" "$host_line"
printf '  %-24s %-16s %s\n' "schemathesis (aidee-sim)" "$(verdict "$schema")" "${schema_line:-no output}"
printf '  %-24s %-16s %s\n' "virtual-hardware stage" "$(verdict "$hw")" "${hw_line:-no closing 'hardware:' line}"
printf '  %-24s %-16s %s\n' "Debian packages (debug)" "$(verdict "$pkg")" "${pkg_line:-no closing 'package:' line}"
for s in "$host" "$schema" "$hw" "$pkg"; do [ "$s" = 0 ] || status=1; done
[ $status = 0 ] && echo "  all stages passed" || echo "  FAILED: see the stage above (its log: $D/)"
# One plain closing line over the tests of the Swift and package stages (schemathesis counts
# cases, above).
read -r wp wf ws < <(printf '%s\n' "$hw_line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p')
read -r pp pf ps < <(printf '%s\n' "$pkg_line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p')
tp=$((hp + ${wp:-0} + ${pp:-0})) tf=$((hf + ${wf:-0} + ${pf:-0})) ts=$((hs + ${ws:-0} + ${ps:-0}))
# A stage that failed without a counted failure (a crash, a timeout) still counts as one.
[ $status != 0 ] && [ $tf = 0 ] && tf=1
echo "total: $tp passed, $tf failed, $ts skipped"
exit $status

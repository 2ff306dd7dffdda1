#!/bin/sh
# Writes a man page (roff, section 1) for one of the project's commands to stdout, from the
# command's own ArgumentParser definitions (`--experimental-dump-help`): name, synopsis,
# description, options, and every subcommand with its options.
#   packaging/man-page.sh BINARY VERSION
set -eu
BIN=${1:?usage: man-page.sh BINARY VERSION}
VERSION=${2:?usage: man-page.sh BINARY VERSION}
"$BIN" --experimental-dump-help | python3 -c '
import json, sys, time, os
version = sys.argv[1]
cmd = json.load(sys.stdin)["command"]
def esc(t):
    t = (t or "").replace("\\", "\\e")
    return "\n".join(("\\&" + l) if l[:1] in ".\x27" else l for l in t.split("\n"))
def names(a):
    out = []
    for n in a.get("names", []):
        out.append(("-" if n["kind"] == "short" else "--") + n["name"])
    return ", ".join(out)
def options(c):
    lines = []
    for a in c.get("arguments", []):
        if not a.get("shouldDisplay", True): continue
        label = names(a) if a.get("names") else "<" + a.get("valueName", "value") + ">"
        if a["kind"] == "option": label += " <" + a.get("valueName", "value") + ">"
        lines.append(".TP\n\\fB" + esc(label) + "\\fR\n" + esc(a.get("abstract", "")) +
                     ((" (default: " + esc(str(a["defaultValue"])) + ")") if "defaultValue" in a else ""))
    return "\n".join(lines)
name = cmd["commandName"]
visible = [s for s in cmd.get("subcommands", []) if s.get("shouldDisplay", True) and s["commandName"] != "help"]
date = time.strftime("%Y-%m-%d", time.gmtime(int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))))
print(".TH %s 1 %s \"%s %s\" \"kiosk-agent\"" % (name.upper(), date, name, version))
print(".SH NAME\n%s \\- %s" % (name, esc(cmd.get("abstract", ""))))
print(".SH SYNOPSIS\n\\fB%s\\fR%s [\\fIoptions\\fR]" % (name, " \\fIsubcommand\\fR" if visible else ""))
if cmd.get("discussion"): print(".SH DESCRIPTION\n" + esc(cmd["discussion"]))
if options(cmd): print(".SH OPTIONS\n" + options(cmd))
def walk(c, path):
    for s in c.get("subcommands", []):
        if not s.get("shouldDisplay", True) or s["commandName"] == "help": continue
        p = path + [s["commandName"]]
        print(".SS \"%s\"\n%s" % (" ".join(p), esc(s.get("abstract", ""))))
        if s.get("discussion"): print(".PP\n" + esc(s["discussion"]))
        o = options(s)
        if o: print(o)
        walk(s, p)
if visible:
    print(".SH SUBCOMMANDS")
    walk(cmd, [name])
print(".SH SEE ALSO\nThe documentation in /usr/share/doc/kiosk-agent/ (KIOSKD.md, PACKAGING.md).")
' "$VERSION"

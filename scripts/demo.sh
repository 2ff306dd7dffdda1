#!/usr/bin/env bash
# `make demo`: the kiosk agent for real, on one machine, with no camera and no GPIO.
#
#   aidee-sim (local Face AiDee server, real dlib matching)  <-- libcurl --  kioskd
#       people enrolled with `kioskctl api` from the public face set        |  frames: a replay script
#                                                                           |  door:   console GPIO backend
# The replay stages a day at the door: nobody; an enrolled person walks up and leaves; a stranger;
# an unapproved user; the enrolled person again after the cooldown; then the server goes down
# (a check-in is refused fail-secure and queued) and comes back (the queue delivers it).
# Each decision is printed with its per-stage latency, each signal as a console-gpio line.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
D=$TOP/.build/demo
BIN=$TOP/.build/debug
FACES=$TOP/.assets/faces/images

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building kioskd, kioskctl and aidee-sim"
mkdir -p "$TOP/.build"
for product in kioskd kioskctl aidee-sim; do
    swift build --product "$product" >"$TOP/.build/demo-build.log" 2>&1 || { cat "$TOP/.build/demo-build.log"; exit 1; }
done

rm -rf "$D"; mkdir -p "$D/frames" "$D/state"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export KIOSK_API_URL=http://127.0.0.1:$PORT KIOSK_PROJECT_ID=1 KIOSK_CREDENTIALS=$D/credentials

SIM_PID=
start_sim() {
    "$BIN/aidee-sim" --port "$PORT" --data "$D/sim" --models "$TOP/.assets/models" \
        --account demo:demo-password --project 1:Lobby --warm-up --log-level warning >>"$D/aidee-sim.log" 2>&1 &
    SIM_PID=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$PORT/_sim/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "demo: aidee-sim did not start; see $D/aidee-sim.log" >&2; return 1
}
KIOSKD_PID=
cleanup() {
    [ -n "$KIOSKD_PID" ] && kill "$KIOSKD_PID" 2>/dev/null || true
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

say "aidee-sim on 127.0.0.1:$PORT, enrolling people with kioskctl api"
start_sim
printf 'demo-password\n' | "$BIN/kioskctl" api key issue --username demo --password-stdin --save "$D/credentials"
user_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
OBAMA=$("$BIN/kioskctl" api users create --status APPROVED --group-id 1 --json | user_id)
"$BIN/kioskctl" api faces add --user "$OBAMA" --image "$FACES/facerec/obama.jpg"
BIDEN=$("$BIN/kioskctl" api users create --status UNAPPROVED --group-id 1 --json | user_id)
"$BIN/kioskctl" api faces add --user "$BIDEN" --image "$FACES/facerec/biden.jpg"
echo "enrolled: user $OBAMA (APPROVED, obama.jpg), user $BIDEN (UNAPPROVED, biden.jpg); grace_hopper.jpg is a stranger"

# A day at the door, one line per scene: image, seconds on screen.
cp "$FACES/ocvdoc/building.jpg" "$D/frames/nobody.jpg"
cp "$FACES/facerec/obama2.jpg" "$FACES/facerec/obama.jpg" "$FACES/facerec/32bit.png" \
   "$FACES/mpl/grace_hopper.jpg" "$FACES/facerec/biden.jpg" "$D/frames/"
cat >"$D/frames/day.txt" <<'EOF'
# scene                  seconds
nobody.jpg               2     # nobody at the door
obama2.jpg               3     # an enrolled, approved person walks up: granted
nobody.jpg               2     # ... and leaves
grace_hopper.jpg         3     # a stranger: no match
nobody.jpg               2
biden.jpg                3     # enrolled but unapproved: denied
nobody.jpg               2
obama.jpg                3     # the approved person again, after the cooldown: granted
nobody.jpg               3     # (the server goes down here)
32bit.png                3     # server down: fail-secure, queued for later
nobody.jpg               14    # (the server comes back; the queue delivers)
EOF

say "kioskd: replayed frames, console GPIO, the offline queue in $D/state"
cp config/demo.yaml "$D/kioskd.yaml"
head -c 32 /dev/urandom >"$D/outbox.key"; chmod 600 "$D/outbox.key"
"$BIN/kioskd" --config "$D/kioskd.yaml" \
    --set api.url="$KIOSK_API_URL" --set api.credentials_file="$D/credentials" \
    --set camera.replay.path="$D/frames/day.txt" --set detection.model="$TOP/.assets/models/face_detection_yunet_2023mar.onnx" \
    --set outbox.state_directory="$D/state" --set outbox.key_file="$D/outbox.key" \
    --set status.file="$D/status.json" --log-level notice 2>&1 | sed -u 's/^/  /' &
KIOSKD_PID=$!

# The server goes down about 21 s into the replay (kioskd takes a second or two to start)
# and comes back after the queued check-in, about 29 s in.
sleep 22
say "stopping aidee-sim: the server is down"
kill "$SIM_PID"; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=
sleep 8
say "starting aidee-sim again: the server is back"
start_sim

wait "$KIOSKD_PID" || true
KIOSKD_PID=

say "kioskctl status"
"$BIN/kioskctl" status --file "$D/status.json"
say "kioskctl events (the journal)"
"$BIN/kioskctl" events --state-dir "$D/state" --limit 30
say "kioskctl queue status"
"$BIN/kioskctl" queue status --state-dir "$D/state"

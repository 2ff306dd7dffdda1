#!/bin/bash
# Runs INSIDE the VM (systemd mode): installs kioskd's system files from the project tree the way
# its package would, so the systemd checks run the project's own unit as shipped: service user and
# groups (sysusers), the udev rule giving group gpio the GPIO chip, /etc/kiosk-agent with the VM's
# configuration and test credentials, tmpfiles. /etc is a throw-away overlay in the VM.
# Fixtures (VHW_KIOSKD_FIXTURES, default Tests/Fixtures/vhw): kioskd.yaml (required: devices of the
# VM, see docs/TESTING.md), credentials and outbox.key (optional).
set -eu
P=$VHW_PROJECT
F=${VHW_KIOSKD_FIXTURES:-$P/Tests/Fixtures/vhw}
systemd-sysusers "$P/systemd/kiosk-agent.sysusers.conf"
install -D -m 644 "$P/systemd/60-kiosk-agent-gpio.rules" /etc/udev/rules.d/60-kiosk-agent-gpio.rules
udevadm control --reload
udevadm trigger --action=add --subsystem-match=gpio --subsystem-match=video4linux
udevadm settle -t 20
install -d -m 755 /etc/kiosk-agent
install -m 644 "$F/kioskd.yaml" /etc/kiosk-agent/kioskd.yaml
for c in credentials outbox.key; do
    if [ -e "$F/$c" ]; then install -m 600 "$F/$c" "/etc/kiosk-agent/$c"; fi
done
systemd-tmpfiles --create "$P/systemd/kiosk-agent.tmpfiles.conf"
echo "installed: user $(id kiosk); $VHW_GPIOCHIP $(stat -c '%G %a' "$VHW_GPIOCHIP"); $VHW_LOOPBACK_DEV $(stat -c '%G %a' "$VHW_LOOPBACK_DEV")"

#!/bin/bash
# Runs INSIDE the VM (systemd mode): installs kioskd's system files from the project tree the way
# its package would, so the systemd checks run the project's own unit as shipped: service user and
# groups (sysusers), the udev rule giving group gpio the GPIO chip, /etc/kiosk-agent with the VM's
# configuration and test credentials, tmpfiles. /etc is a throw-away overlay in the VM.
# Fixtures (VHW_KIOSKD_FIXTURES, default Tests/Fixtures/vhw), all optional: kioskd.yaml (a
# configuration for the VM's devices; else config/kioskd.yaml is installed), credentials and
# outbox.key (else test values are made up).
set -eu
P=$VHW_PROJECT
F=${VHW_KIOSKD_FIXTURES:-$P/Tests/Fixtures/vhw}
systemd-sysusers "$P/systemd/kiosk-agent.sysusers.conf"
install -D -m 644 "$P/systemd/60-kiosk-agent-gpio.rules" /etc/udev/rules.d/60-kiosk-agent-gpio.rules
udevadm control --reload
udevadm trigger --action=add --subsystem-match=gpio --subsystem-match=video4linux
udevadm settle -t 20
install -d -m 755 /etc/kiosk-agent
if [ -e "$F/kioskd.yaml" ]; then
    install -m 644 "$F/kioskd.yaml" /etc/kiosk-agent/kioskd.yaml
else
    # No VM configuration yet: the shipped example; stage-in-guest.sh points it at the VM with --set.
    install -m 644 "$P/config/kioskd.yaml" /etc/kiosk-agent/kioskd.yaml
fi
# Test secrets, in the VM's throw-away /etc only: given ones, or made up (no server checks them).
for c in credentials outbox.key; do
    if [ -e "$F/$c" ]; then install -m 600 "$F/$c" "/etc/kiosk-agent/$c"; fi
done
[ -e /etc/kiosk-agent/credentials ] || (umask 077; printf 'key=vhw-test\nsecret=vhw-test\n' >/etc/kiosk-agent/credentials)
[ -e /etc/kiosk-agent/outbox.key ] || (umask 077; head -c 32 /dev/urandom >/etc/kiosk-agent/outbox.key)
systemd-tmpfiles --create "$P/systemd/kiosk-agent.tmpfiles.conf"
echo "installed: user $(id kiosk); $VHW_GPIOCHIP $(stat -c '%G %a' "$VHW_GPIOCHIP"); $VHW_LOOPBACK_DEV $(stat -c '%G %a' "$VHW_LOOPBACK_DEV")"

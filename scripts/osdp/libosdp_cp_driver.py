#!/usr/bin/env python3
"""Drives LibOSDP's control panel (PyPI libosdp, pinned by scripts/setup-osdp-venv.sh) on the
master side of a pseudo-terminal pair, for Tests/OSDPTests/LibOSDPInteropTests.swift. The Swift
PD opens the slave side as its serial port.

Protocol with the test, one JSON object per line:
  out: {"tty": "/dev/pts/N"}                 the port for the PD to open
  out: {"phase": NAME, "secure": BOOL, ...}  after each phase's secure-channel wait
  out: {"pd_id": {...}, "caps": {...}}       what the CP discovered (good key)
  out: {"ready": true}                       the test may queue a card read now
  in:  any line                              (install: the PD stored the key; then: the test queued it)
  out: {"card": {...}}                       the CP's card-read event (data as hex)
  out: {"led_sent": true}                    an osdp_LED (permanent green) was submitted
  out: {"done": true}

    libosdp_cp_driver.py --address 0 --scbk HEX [--wrong-scbk HEX]

With --install, a first CP in install mode opens the channel with SCBK-D and sets --scbk with
osdp_KEYSET; then a CP with that key must get a channel. With --wrong-scbk, a first CP holds the wrong key for a few seconds (no secure channel
expected), then a new CP with the right key on the same line must succeed: the PD stays usable.
"""
import argparse
import json
import os
import pty
import sys
import time
import tty

import osdp


def say(obj):
    print(time.strftime("%H:%M:%S"), "driver:", obj, file=sys.stderr, flush=True)
    print(json.dumps(obj, default=lambda b: b.hex() if isinstance(b, (bytes, bytearray)) else str(b)), flush=True)


class PtyChannel(osdp.Channel):
    def __init__(self, fd):
        super().__init__()
        self.fd = fd

    def read(self, max_bytes):
        try:
            return os.read(self.fd, max_bytes)
        except (BlockingIOError, OSError):
            return b""

    def write(self, buf):
        try:
            return os.write(self.fd, buf)
        except (BlockingIOError, OSError):
            return 0

    def flush(self):
        pass


def phase(name, address, channel, key, wait, flags=()):
    info = osdp.PDInfo(address, channel, scbk=key, name=name, flags=list(flags))
    cp = osdp.ControlPanel([info], log_level=osdp.LogLevel.Warning)
    cp.start()
    secure = cp.sc_wait(address, timeout=wait)
    say({"phase": name, "secure": secure, "online": cp.is_online(address)})
    return cp


def retire(cp, master):
    """Stops a CP before the next one starts on the same line: its thread must be gone, and
    replies meant for it drained, or the next CP sees half of the PD's answers."""
    cp.stop()
    del cp
    time.sleep(0.5)
    try:
        while os.read(master, 4096):
            pass
    except (BlockingIOError, OSError):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", type=int, default=0)
    parser.add_argument("--scbk", required=True)
    parser.add_argument("--wrong-scbk")
    parser.add_argument("--install", action="store_true", help="CP in install mode: SCBK-D, then osdp_KEYSET with --scbk")
    args = parser.parse_args()

    master, slave = pty.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    say({"tty": os.ttyname(slave)})
    channel = PtyChannel(master)
    address = args.address

    if args.wrong_scbk:
        cp = phase("wrong-key", address, channel, bytes.fromhex(args.wrong_scbk), 3)
        retire(cp, master)
    if args.install:
        cp = phase("install", address, channel, bytes.fromhex(args.scbk), 10, [osdp.LibFlag.InstallMode])
        # LibOSDP sends osdp_KEYSET once the channel is up with SCBK-D. The test says (a line on
        # stdin) when the PD has stored the key: a fixed pause was too short on a loaded machine,
        # and this CP, stopped before its KEYSET went out, left the PD without the key.
        sys.stdin.readline()
        retire(cp, master)
    cp = phase("right-key", address, channel, bytes.fromhex(args.scbk), 10)
    if not cp.is_sc_active(address):
        cp.stop()
        say({"done": True})
        return

    pd_id = cp.get_pd_id(address)
    caps = {name: cp.check_capability(address, getattr(osdp.Capability, name))
            for name in ("CardDataFormat", "LEDControl", "AudibleControl", "CheckCharacter", "CommunicationSecurity")}
    say({"pd_id": pd_id.__dict__, "caps": caps})

    say({"ready": True})
    sys.stdin.readline()
    event = cp.get_event(address, timeout=5)
    say({"card": event})

    cp.submit_command(address, {
        "command": osdp.Command.LED, "reader": 0, "led_number": 0, "control_code": 1, "on_count": 5,
        "off_count": 0, "on_color": osdp.CommandLEDColor.Green, "off_color": osdp.CommandLEDColor.Black,
        "timer_count": 0, "temporary": False,
    })
    say({"led_sent": True})
    sys.stdin.readline()
    cp.stop()
    say({"done": True})


if __name__ == "__main__":
    main()

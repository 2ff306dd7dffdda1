#!/usr/bin/env python3
"""Records a Secure Channel handshake between LibOSDP's own CP and PD (PyPI libosdp, pinned by
scripts/setup-osdp-venv.sh), to give the Swift tests known vectors from an implementation
nobody here wrote: the CP's RND.A, the PD's RND.B, the client and server cryptograms, RMAC_I,
and the first secured command with its MAC. Run once; the output was pasted into
Tests/OSDPTests/SecureChannelTests.swift.

    ~/.cache/kiosk-agent/venv-libosdp/bin/python scripts/osdp/libosdp_vectors.py
"""
import json
import sys
import threading
import time

import osdp

SCBK = bytes(range(0x40, 0x50))


class Pipe:
    """One direction of an in-memory line; every frame written is kept."""

    def __init__(self):
        self.data = bytearray()
        self.lock = threading.Lock()
        self.log = []


class End(osdp.Channel):
    def __init__(self, rx, tx):
        super().__init__()
        self.rx, self.tx = rx, tx

    def read(self, max_bytes):
        with self.rx.lock:
            out = bytes(self.rx.data[:max_bytes])
            del self.rx.data[:max_bytes]
            return out

    def write(self, buf):
        with self.tx.lock:
            self.tx.data += buf
            self.tx.log.append(bytes(buf))
        return len(buf)

    def flush(self):
        pass


def frames(chunks):
    """Splits the recorded writes into frames (LibOSDP writes one frame per call, maybe with a 0xFF mark)."""
    out = []
    for chunk in chunks:
        chunk = chunk.lstrip(b"\xff")
        if chunk.startswith(b"\x53"):
            out.append(chunk)
    return out


def main():
    cp_to_pd, pd_to_cp = Pipe(), Pipe()
    pd_info = osdp.PDInfo(101, End(cp_to_pd, pd_to_cp), scbk=SCBK)
    caps = osdp.PDCapabilities([(osdp.Capability.CommunicationSecurity, 1, 1), (osdp.Capability.LEDControl, 1, 1)])
    pd = osdp.PeripheralDevice(pd_info, caps, log_level=osdp.LogLevel.Error)
    cp_info = osdp.PDInfo(101, End(pd_to_cp, cp_to_pd), scbk=SCBK)
    cp = osdp.ControlPanel([cp_info], log_level=osdp.LogLevel.Error)
    pd.start()
    cp.start()
    ok = cp.sc_wait(101, timeout=5)
    # One encrypted command (osdp_LED, permanent green) so the vector covers the data cipher too.
    cp.submit_command(101, {
        "command": osdp.Command.LED, "reader": 0, "led_number": 0, "control_code": 1, "on_count": 5,
        "off_count": 0, "on_color": osdp.CommandLEDColor.Green, "off_color": osdp.CommandLEDColor.Black,
        "timer_count": 0, "temporary": False,
    })
    time.sleep(0.5)
    cp.stop()
    pd.stop()
    if not ok:
        sys.exit("libosdp_vectors: the secure channel did not come up")
    commands, replies = frames(cp_to_pd.log), frames(pd_to_cp.log)
    chlng = next(f for f in commands if f[5:7] == bytes([3, 0x11]))
    ccrypt = next(f for f in replies if f[5:7] == bytes([3, 0x12]))
    scrypt = next(f for f in commands if f[5:7] == bytes([3, 0x13]))
    rmac = next(f for f in replies if f[5:7] == bytes([3, 0x14]))
    # The conversation from osdp_CHLNG to the encrypted osdp_LED, command and reply in turn.
    start = commands.index(chlng)
    led = next(i for i, f in enumerate(commands) if f[5:7] == bytes([2, 0x17]))
    pairs = list(zip(commands[start:led + 1], replies[start:led + 1]))
    print(json.dumps({
        "scbk": SCBK.hex(),
        "rnd_b": ccrypt[17:25].hex(),  # after SOM..CTRL, SCB (3), code, cUID (8)
        "conversation": [[c.hex(), r.hex()] for c, r in pairs],
    }, indent=2))


if __name__ == "__main__":
    main()

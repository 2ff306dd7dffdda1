import KioskCore

print("kioskd: not assembled yet (see issue 8)")

import KioskCLI

await KioskControl.runFromCommandLine()

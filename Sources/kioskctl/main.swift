// kioskctl's entry point: runs KioskControl from the KioskCLI library (a library type cannot be @main).
import KioskCLI

await KioskControl.runFromCommandLine()

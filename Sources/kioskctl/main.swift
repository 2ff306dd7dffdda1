import KioskCLI

await KioskControl.main()

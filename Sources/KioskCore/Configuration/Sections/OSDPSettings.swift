// `osdp.*`: the RS-485 line to an OSDP control panel, the PD's address and the Secure Channel key.
package import OSDP

/// The OSDP link (`osdp.*`), used when `door.mode` is `osdp`: this terminal is a reader (PD) on
/// the panel's RS-485 bus. Credentials are mapped by `panel.*` like Wiegand's.
package struct OSDPSettings: Sendable, Equatable {
    /// The serial device of the USB-RS485 adapter or UART.
    package var port = "/dev/ttyUSB0"
    package var baud = 9600
    /// The PD address the panel polls, 0-126 (127 is broadcast).
    package var address = 0
    package var secure: OSDPSecurityMode = .required
    /// The SCBK as 32 hex digits in a file readable by its owner only (0600). Never logged.
    package var scbkFile = ""
    /// Accept the default key SCBK-D and osdp_KEYSET (the panel sets the key at installation).
    package var installMode = false

    package init() {}
}

extension OSDPSettings: ConfigurationSection {
    static let name = "osdp"

    mutating func read(from keys: SectionReader) {
        keys.string("port", &port)
        keys.int("baud", &baud, range: 9600...230_400)
        keys.int("address", &address, range: 0...126)
        keys.choice("secure", &secure)
        keys.string("scbk_file", &scbkFile)
        keys.bool("install_mode", &installMode)
    }

    func validate(_ keys: SectionReader) {
        if !OSDPCommunicationSettings.baudRates.contains(baud) {
            keys.issue("baud", "\(baud) is not one of: \(OSDPCommunicationSettings.baudRates.map(String.init).joined(separator: ", "))")
        }
    }

    /// Checks made only when the terminal is an OSDP reader (`door.mode: osdp`): the port is
    /// named and the key file reads (its error names the file, never the key).
    func validateInUse(_ keys: SectionReader) {
        if port.isEmpty { keys.issue("port", "is required with door.mode: osdp (e.g. /dev/ttyUSB0)") }
        guard secure != .off else { return }
        if scbkFile.isEmpty {
            if !installMode {
                keys.issue(
                    "scbk_file",
                    "is required with secure: \(secure.rawValue) (a 0600 file with the 16-byte key as 32 hex digits), "
                        + "unless install_mode: true lets the panel set the key")
            }
            return
        }
        do throws(OSDPKeyFileError) {
            _ = try OSDPKeyFile.load(path: KioskConfiguration.resolveSecretPath(scbkFile))
        } catch {
            // A missing file is fine in install mode: osdp_KEYSET will write it.
            if !(installMode && error.problem.hasPrefix("cannot read")) { keys.issue("scbk_file", "\(error)") }
        }
    }

    /// The PD's configuration, with the key read from `scbk_file` (nil when there is none yet).
    package func peripheralConfiguration() throws(OSDPKeyFileError) -> OSDPPeripheralConfiguration {
        var key: OSDPKey?
        if secure != .off, !scbkFile.isEmpty {
            do throws(OSDPKeyFileError) {
                key = try OSDPKeyFile.load(path: KioskConfiguration.resolveSecretPath(scbkFile))
            } catch {
                guard installMode, error.problem.hasPrefix("cannot read") else { throw error }
            }
        }
        return OSDPPeripheralConfiguration(
            address: UInt8(clamping: address), baud: baud, security: secure, scbk: key, installMode: installMode)
    }
}

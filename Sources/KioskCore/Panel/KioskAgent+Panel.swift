// KioskAgent's panel part: the door seam the pipeline gets, a PanelDoor or OSDPDoor when grants go to a panel.
import DoorIO
import Foundation
import Logging
import OSDP

extension KioskAgent {
    /// What the pipeline signals: the door controller itself, or (`door.mode: wiegand`) a
    /// ``PanelDoor`` around it that sends a granted face's credential to the panel, or
    /// (`door.mode: osdp`) an ``OSDPDoor`` with its reader line open and answering.
    func makeDoorSignals(_ door: DoorController) throws(StartupError) -> any DoorSignals {
        if configuration.door.mode == .osdp { return try makeOSDPDoor(door) }
        guard configuration.door.mode == .wiegand else { return door }
        do {
            let mapper = try CredentialMapper(settings: configuration.panel)
            return PanelDoor(door: door, mapper: mapper, logger: logger.with("component", "panel"))
        } catch {
            throw StartupError(.door, setting: "panel.lookup_file", error)
        }
    }
}

extension KioskAgent {
    /// Opens the OSDP line (a wrong or busy port fails the start, naming `osdp.port`) and
    /// starts answering the panel; a key set by osdp_KEYSET goes to `osdp.scbk_file`.
    func makeOSDPDoor(_ door: DoorController) throws(StartupError) -> OSDPDoor {
        let mapper: CredentialMapper
        do {
            mapper = try CredentialMapper(settings: configuration.panel)
        } catch {
            throw StartupError(.door, setting: "panel.lookup_file", error)
        }
        let settings = configuration.osdp
        let peripheral: OSDPPeripheralConfiguration
        do {
            peripheral = try settings.peripheralConfiguration()
        } catch {
            throw StartupError(.door, setting: "osdp.scbk_file", error)
        }
        let keyPath = settings.scbkFile.isEmpty ? nil : KioskConfiguration.resolveSecretPath(settings.scbkFile)
        var store: OSDPKeyStore?
        if let keyPath {
            store = { (key: OSDPKey) throws -> String in
                try OSDPKeyFile.store(key, path: keyPath)
                return keyPath
            }
        }
        let reader = OSDPReaderService(port: settings.port, configuration: peripheral, keyStore: store)
        do {
            try reader.start()
        } catch {
            throw StartupError(.door, setting: "osdp.port", error)
        }
        let install = settings.installMode ? " (install mode: SCBK-D and KEYSET accepted)" : ""
        logger.notice(
            "OSDP reader on \(settings.port) at \(settings.baud) baud, address \(settings.address), secure channel \(settings.secure.rawValue)\(install)"
        )
        return OSDPDoor(door: door, reader: reader, mapper: mapper, logger: logger.with("component", "osdp"))
    }
}

extension KioskConfiguration {
    /// `api.condition` with `door.direction` added as the property `direction` (when set), so a
    /// server or its reports can tell entries from exits.
    package var checkInConditionJSON: String {
        guard door.direction != .none else { return api.conditionJSON }
        var object: [String: Any] = [:]
        if !api.conditionJSON.isEmpty,
            let parsed = try? JSONSerialization.jsonObject(with: Data(api.conditionJSON.utf8)) as? [String: Any]
        {
            object = parsed
        }
        var properties = object["properties"] as? [String: Any] ?? [:]
        properties["direction"] = door.direction.rawValue
        object["properties"] = properties
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return api.conditionJSON }
        return String(decoding: data, as: UTF8.self)
    }
}

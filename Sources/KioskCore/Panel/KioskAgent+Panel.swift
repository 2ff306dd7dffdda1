// KioskAgent's panel part: the door seam the pipeline gets, a PanelDoor when grants go to a panel.
import DoorIO
import Foundation

extension KioskAgent {
    /// What the pipeline signals: the door controller itself, or (`door.mode: wiegand`) a
    /// ``PanelDoor`` around it that sends a granted face's credential to the panel.
    func makeDoorSignals(_ door: DoorController) throws(StartupError) -> any DoorSignals {
        guard configuration.door.mode == .wiegand else { return door }
        do {
            let mapper = try CredentialMapper(settings: configuration.panel)
            return PanelDoor(door: door, mapper: mapper, logger: logger.with("component", "panel"))
        } catch {
            throw StartupError(.door, setting: "panel.lookup_file", error)
        }
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

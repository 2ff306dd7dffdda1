// KioskConfiguration: everything kioskd is configured with, one section per component, read in file order.
import Foundation

/// Everything `kioskd` is configured with, read once from the layered sources
/// (flags > environment > YAML file > defaults) by ``ConfigurationLoader``.
///
/// Each component gets its own documented struct, one section of the file each. A section's
/// file under `Configuration/Sections/` holds all of it: properties and defaults, the keys it
/// reads with their ranges, its checks, and its translation into the module's own
/// configuration. Defaults are chosen for a typical door with a 640×480 USB camera at
/// 0.5–1.5 m, and `config/kioskd.yaml` says why for each key.
package struct KioskConfiguration: Sendable, Equatable {
    package var api = APISettings()
    package var camera = CameraSettings()
    package var detection = DetectionSettings()
    package var pipeline = PipelineSettings()
    package var policy = PolicySettings()
    package var door = DoorSettings()
    package var panel = PanelSettings()
    package var osdp = OSDPSettings()
    package var outbox = OutboxSettings()
    package var status = StatusSettings()
    package var privacy = PrivacySettings()

    package init() {}
}

extension KioskConfiguration {
    /// Calls `body` with each section in turn, in the order of `config/kioskd.yaml`. This is the
    /// one list of sections: reading, validation and the pre-flight checks all go through it.
    mutating func forEachSection(_ body: (inout any ConfigurationSection) -> Void) {
        func visit<S: ConfigurationSection>(_ section: inout S) {
            var erased: any ConfigurationSection = section
            body(&erased)
            // `body` changes the section's values, never its type, so the cast always succeeds.
            if let changed = erased as? S { section = changed }
        }
        visit(&api)
        visit(&camera)
        visit(&detection)
        visit(&pipeline)
        visit(&policy)
        visit(&door)
        visit(&panel)
        visit(&osdp)
        visit(&outbox)
        visit(&status)
        visit(&privacy)
    }

    /// The sections as they are, in file order.
    var sections: [any ConfigurationSection] {
        var copy = self
        var list: [any ConfigurationSection] = []
        copy.forEachSection { list.append($0) }
        return list
    }

    /// Each section reads its own keys.
    mutating func read(from reader: Reader) {
        forEachSection { section in section.read(from: reader.section(type(of: section).name)) }
    }

    /// Each section checks its own keys, then the rules that span sections.
    func validate(in reader: Reader) {
        for section in sections {
            section.validate(reader.section(type(of: section).name))
        }
        validateAcrossSections(reader)
    }

    /// Rules that involve keys of more than one section: `door.mode: wiegand` needs usable
    /// `panel.*` lines and lookup file. Every other rule is about one component and lives in its
    /// section's `validate`. (The sample's advice to keep
    /// `pipeline.decision_deadline` well under `api.request_timeout` is not a rule: a deadline
    /// past the timeout only means the offline branch never decides early.)
    func validateAcrossSections(_ reader: Reader) {
        validatePanel(reader)
    }
}

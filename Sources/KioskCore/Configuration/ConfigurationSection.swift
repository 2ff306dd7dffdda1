/// One section of `kioskd.yaml` (`api:`, `pipeline:`, …) that reads and checks its own keys.
///
/// Everything about a section lives in one file under `Configuration/Sections/`, next to its
/// type: the properties with their defaults and doc comments, ``read(from:)`` (each key's name,
/// type and range), ``validate(_:)`` (rules involving more than one of its keys, or more than a
/// type can say), ``preflight(environment:report:)`` (what `--check-config` looks at outside
/// the file), and the translation into the owning module's configuration. `KioskConfiguration`
/// only lists the sections; the loader never names a key.
protocol ConfigurationSection {
    /// The top-level YAML key of the section, e.g. `pipeline`.
    static var name: String { get }

    /// Reads every key of the section. An absent key keeps its default; a key that is present
    /// but wrong is reported and the default stays, so loading fails rather than guessing.
    /// Each key read here becomes a known key (``ConfigurationLoader/knownKeys``).
    mutating func read(from keys: SectionReader)

    /// Rules beyond one key's type and range. Runs after every section has been read.
    func validate(_ keys: SectionReader)

    /// Checks outside the file that `kioskd --check-config` runs: the files the section names
    /// exist and secrets are private. `report` takes the key within the section.
    func preflight(environment: [String: String], report: (_ key: String, _ message: String) -> Void)
}

extension ConfigurationSection {
    func validate(_ keys: SectionReader) {}
    func preflight(environment: [String: String], report: (_ key: String, _ message: String) -> Void) {}
}

/// The loader's ``Reader`` seen from inside one section: keys are named relative to the section
/// (`cooldown` in `pipeline` reads `pipeline.cooldown`), so a section's file spells each key
/// once, the way it appears under its heading in the YAML file.
struct SectionReader {
    let reader: Reader
    /// Dotted path of the section, e.g. `pipeline` or `door.lines`.
    let path: String

    /// The dotted key of `name` in this section, as issues, flags and the environment name it.
    func key(_ name: String) -> String { "\(path).\(name)" }

    /// A mapping nested in this section, e.g. `replay` in `camera`.
    func nested(_ name: String) -> SectionReader { SectionReader(reader: reader, path: key(name)) }

    /// Reports a problem with `name`, naming where its value came from.
    func issue(_ name: String, _ message: String) { reader.report(key(name), message) }

    func string(_ name: String, _ value: inout String) { reader.string(key(name), &value) }
    func optionalString(_ name: String, _ value: inout String?) { reader.optionalString(key(name), &value) }
    func int(_ name: String, _ value: inout Int, range: ClosedRange<Int>) { reader.int(key(name), &value, range: range) }
    func optionalInt(_ name: String, _ value: inout Int?) { reader.optionalInt(key(name), &value) }
    func double(_ name: String, _ value: inout Double, range: ClosedRange<Double>) {
        reader.double(key(name), &value, range: range)
    }
    func bool(_ name: String, _ value: inout Bool) { reader.bool(key(name), &value) }
    func duration(_ name: String, _ value: inout Duration, max: Duration = .seconds(365 * 86400)) {
        reader.duration(key(name), &value, max: max)
    }
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ value: inout T) where T.RawValue == String {
        reader.choice(key(name), &value)
    }
    func stringList(_ name: String, _ value: inout [String]) { reader.stringList(key(name), &value) }
}

extension Reader {
    /// The keys of one top-level section.
    func section(_ name: String) -> SectionReader { SectionReader(reader: self, path: name) }
}

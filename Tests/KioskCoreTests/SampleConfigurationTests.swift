// The shipped YAML files agree with the keys the sections read, and the sample explains every key.
import Foundation
import TestSupport
import Testing

@testable import KioskCore

/// The shipped YAML files and the keys the sections read agree: the sample documents every key
/// this version reads, and neither file names a key it does not.
@Suite("Sample configuration files")
struct SampleConfigurationTests {
    static let documented = "config/kioskd.yaml"
    static let samples = ["config/kioskd.yaml", "config/demo.yaml"]

    struct SampleFile {
        let path: String
        let lines: [String]
        /// Dotted leaf key → 1-based line of the key.
        let keys: [String: Int]

        init(_ relativePath: String) throws {
            path = relativePath
            let text = try String(contentsOf: TestAssets.repositoryRoot.appendingPathComponent(relativePath), encoding: .utf8)
            lines = text.components(separatedBy: "\n")
            keys = try ConfigurationLoader.leafKeys(ofYAML: text)
        }

        static func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        static func isComment(_ line: String) -> Bool { line.trimmingCharacters(in: .whitespaces).hasPrefix("#") }

        /// Whether a comment explains `key`: a comment line directly above it; or the comment
        /// heading its run of sibling keys names it (`cooldown` and `absence_to_reset` under one
        /// comment that mentions both); or, for a key in a nested mapping (`camera.replay.fps`),
        /// a comment directly above the mapping's key or on its first line.
        func isDocumented(_ key: String) -> Bool {
            guard let line = keys[key], line >= 2 else { return false }
            let index = line - 1
            let depth = Self.indent(lines[index])
            if Self.isComment(lines[index - 1]) { return true }

            let leaf = String(key.split(separator: ".").last ?? "")
            var above = index - 1
            while above >= 0, !lines[above].trimmingCharacters(in: .whitespaces).isEmpty {
                let indent = Self.indent(lines[above])
                if indent < depth { break }
                if indent == depth, Self.isComment(lines[above]) {
                    var block: [String] = []
                    while above >= 0, Self.isComment(lines[above]), Self.indent(lines[above]) == depth {
                        block.append(lines[above])
                        above -= 1
                    }
                    if Self.names(block.joined(separator: " "), leaf) { return true }
                    break
                }
                above -= 1
            }

            let parts = key.split(separator: ".")
            guard parts.count >= 3 else { return false }
            let parent = String(parts[parts.count - 2])
            var header = index - 1
            while header >= 0 {
                let text = lines[header]
                if Self.indent(text) < depth, text.trimmingCharacters(in: .whitespaces).hasPrefix("\(parent):") { break }
                header -= 1
            }
            guard header >= 1 else { return false }
            return Self.isComment(lines[header - 1]) || Self.isComment(lines[header + 1])
        }

        /// `name` appears in `text` as a word of its own (`width` is not in `detection_width`).
        static func names(_ text: String, _ name: String) -> Bool {
            let wordCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_"))
            var searchRange = text.startIndex..<text.endIndex
            while let found = text.range(of: name, range: searchRange) {
                let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
                let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
                let isWord = { (c: Character?) in c.map { $0.unicodeScalars.allSatisfy(wordCharacters.contains) } ?? false }
                if !isWord(before), !isWord(after) { return true }
                searchRange = found.upperBound..<text.endIndex
            }
            return false
        }
    }

    @Test("every key in the shipped files is one this version reads", arguments: samples)
    func sampleKeysAreKnown(path: String) throws {
        let sample = try SampleFile(path)
        let known = Set(ConfigurationLoader.knownKeys)
        #expect(!sample.keys.isEmpty)
        let unknown = sample.keys.filter { !known.contains($0.key) }.sorted { $0.value < $1.value }
        #expect(unknown.isEmpty, "\(path): keys no section reads: \(unknown.map { "\($0.key) (line \($0.value))" })")
    }

    @Test("config/kioskd.yaml names every key this version reads")
    func everyKnownKeyIsInTheSample() throws {
        let sample = try SampleFile(Self.documented)
        let missing = ConfigurationLoader.knownKeys.filter { sample.keys[$0] == nil }
        #expect(missing.isEmpty, "add to \(Self.documented), with a comment saying what it does and its default: \(missing)")
    }

    @Test("config/kioskd.yaml explains every key in a comment")
    func everyKeyIsDocumented() throws {
        let sample = try SampleFile(Self.documented)
        let undocumented = ConfigurationLoader.knownKeys.filter { sample.keys[$0] != nil && !sample.isDocumented($0) }
        #expect(undocumented.isEmpty, "\(Self.documented): no comment above, naming, or heading the section of: \(undocumented)")
    }

    @Test("the documentation rule itself: above, named in the heading comment, or on the section")
    func documentationRule() throws {
        let sample = try SampleFile(Self.documented)
        // Directly above.
        #expect(sample.isDocumented("pipeline.cooldown"))
        // Named by the comment heading its run of keys.
        #expect(sample.isDocumented("pipeline.absence_to_reset"))
        // On its section.
        #expect(sample.isDocumented("door.lines.tamper"))
        #expect(!SampleFile.names("detection_width", "width"))
        #expect(SampleFile.names("width and height", "width"))
    }

    @Test("the sections are the sample's, in its order, and each reads its own keys")
    func sectionsFollowTheSample() throws {
        let sample = try SampleFile(Self.documented)
        var inFileOrder: [String] = []
        for (key, _) in sample.keys.sorted(by: { $0.value < $1.value }) {
            let section = String(key.split(separator: ".")[0])
            if !inFileOrder.contains(section) { inFileOrder.append(section) }
        }
        let sections = KioskConfiguration().sections.map { type(of: $0).name }
        #expect(sections == inFileOrder)
        let prefixes = Set(ConfigurationLoader.knownKeys.map { String($0.split(separator: ".")[0]) })
        #expect(prefixes == Set(sections))
    }
}

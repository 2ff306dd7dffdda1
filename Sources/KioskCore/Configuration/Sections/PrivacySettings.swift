/// Biometric data handling (`privacy.*`).
package struct PrivacySettings: Sendable, Equatable {
    /// Keep uploaded face crops on disk (for support); off by default: images stay in memory.
    package var keepImages = false
    package var keepImagesDirectory = "/var/lib/kiosk-agent/images"
    /// Kept images older than this are deleted.
    package var keepImagesMaxAge: Duration = .seconds(7 * 86_400)
    /// At most this many kept images; the oldest go first.
    package var keepImagesMaxCount = 1000

    package init() {}
}

extension PrivacySettings: ConfigurationSection {
    static let name = "privacy"

    mutating func read(from keys: SectionReader) {
        keys.bool("keep_images", &keepImages)
        keys.string("keep_images_directory", &keepImagesDirectory)
        keys.duration("keep_images_max_age", &keepImagesMaxAge, max: .seconds(366 * 86_400))
        keys.int("keep_images_max_count", &keepImagesMaxCount, range: 1...1_000_000)
    }
}

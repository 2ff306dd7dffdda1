// BuildInfo: the agent's version (the one place it is written), and what a packaged build was stamped with.
import CBuildInfo

/// Which build of the agent this is.
///
/// ``packageVersion`` is the single source of the version: `make deb` reads it from this file
/// for the package name and the changelog. The commit and the exact compiler are stamped only
/// by `make deb` (a release build); any other build is a development build and says so rather
/// than guess.
package enum BuildInfo {
    /// The package version (Debian `Version:` of kiosk-agent and aidee-sim).
    package static let packageVersion = "0.1.0"

    /// The git commit of a packaged build (`abc1234`, `-dirty` when the tree had changes); nil
    /// in a development build.
    package static var commit: String? { kiosk_build_commit().map { String(cString: $0) } }

    /// True for a build made by `make deb`.
    package static var isPackaged: Bool { kiosk_build_package_version() != nil }

    /// "0.1.0" for a packaged build, "0.1.0-dev" otherwise.
    package static var version: String { isPackaged ? packageVersion : packageVersion + "-dev" }

    /// The compiler: `swift --version`'s first line for a packaged build; otherwise the language
    /// mode this binary was compiled by, as far as the compiler tells it.
    package static var swiftVersion: String {
        if let stamped = kiosk_build_swift_version() { return String(cString: stamped) }
        #if compiler(>=6.4)
        return "Swift compiler 6.4 or later (development build: exact version not stamped)"
        #elseif compiler(>=6.3)
        return "Swift compiler 6.3 (development build: exact version not stamped)"
        #elseif compiler(>=6.2)
        return "Swift compiler 6.2 (development build: exact version not stamped)"
        #else
        return "Swift compiler before 6.2 (development build: exact version not stamped)"
        #endif
    }

    /// One line: `0.1.0 (commit abc1234)` or `0.1.0-dev (development build, commit not stamped)`.
    package static var summary: String {
        if isPackaged { return "\(version) (commit \(commit ?? "unknown"))" }
        return "\(version) (development build, commit not stamped)"
    }
}

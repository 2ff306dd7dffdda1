// DoorIOLibraries: the loaded libgpiod's version, for --version.
import CGPIOD

/// The GPIO library's version, as `kioskd --version` and `kioskctl report` print it.
package enum DoorIOLibraries {
    /// `(library, version)`: libgpiod as the loaded library reports it (`gpiod_version_string`).
    package static var versions: [(library: String, version: String)] {
        [("libgpiod", gpiod_version_string().map { String(cString: $0) } ?? "unknown")]
    }
}

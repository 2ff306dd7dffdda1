// KioskVersion: the agent's version and the versions of everything it runs on, for --version, status and reports.
import BuildInfo
import Camera
import DoorIO
import FaceAiDee
import FaceDetection
import Imaging
import Outbox

/// What `kioskd --version`, `kioskctl --version`, status.json and `kioskctl report` say about
/// the build. Each module reports its own library (KioskCore imports no C module); the agent's
/// version comes from `BuildInfo`, the one place it is written.
package enum KioskVersion {
    /// The agent's version: `0.1.0` for a packaged build, `0.1.0-dev` otherwise.
    package static var current: String { BuildInfo.version }

    /// The git commit of a packaged build, nil for a development build.
    package static var commit: String? { BuildInfo.commit }

    /// The Swift compiler the binary was built with.
    package static var swift: String { BuildInfo.swiftVersion }

    /// Each system library the agent links, with its version, read from the loaded library
    /// wherever the library can tell (see each module's `…Libraries`).
    package static var libraries: [(library: String, version: String)] {
        FaceAiDeeLibraries.versions + DoorIOLibraries.versions + FaceDetectionLibraries.versions
            + OutboxLibraries.versions + ImagingLibraries.versions + CameraLibraries.versions
    }

    /// The `--version` text: the program and agent version with its commit, the compiler, then
    /// one line per library.
    package static func report(program: String) -> String {
        var lines = ["\(program) \(BuildInfo.summary)", "swift: \(swift)"]
        lines += libraries.map { "\($0.library): \($0.version)" }
        return lines.joined(separator: "\n")
    }
}

// CameraLibraries: libv4l2's version, for --version (from dpkg: the library has no version call).
import Foundation

/// The camera library's version, as `kioskd --version` and `kioskctl report` print it.
package enum CameraLibraries {
    /// The Debian package that ships `libv4l2.so.0`.
    static let packageName = "libv4l-0"

    /// `(library, version)`: libv4l2 has no run-time version call, so this is the installed
    /// package's version as dpkg records it (`unknown` on a system without dpkg).
    package static var versions: [(library: String, version: String)] {
        let status = (try? String(contentsOfFile: "/var/lib/dpkg/status", encoding: .utf8)) ?? ""
        let version = installedVersion(of: packageName, dpkgStatus: status)
        return [("libv4l2", version.map { "\($0) (package \(packageName); no run-time version call)" } ?? "unknown")]
    }

    /// The `Version:` of the first installed stanza of `package` in a dpkg status file.
    static func installedVersion(of package: String, dpkgStatus: String) -> String? {
        for stanza in dpkgStatus.split(separator: "\n\n") {
            let fields = stanza.split(separator: "\n")
            guard fields.contains("Package: \(package)"), fields.contains(where: { $0.hasPrefix("Status: install ok installed") })
            else { continue }
            if let line = fields.first(where: { $0.hasPrefix("Version: ") }) {
                return String(line.dropFirst("Version: ".count))
            }
        }
        return nil
    }
}

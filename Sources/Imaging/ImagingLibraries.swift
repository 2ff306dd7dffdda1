// ImagingLibraries: the versions of libjpeg-turbo and libpng this module works with, for --version.
import CPNG
import CTurboJPEG

/// The image libraries' versions, as `kioskd --version` and `kioskctl report` print them.
package enum ImagingLibraries {
    /// `(library, version)` pairs. libpng's comes from the loaded library
    /// (`png_access_version_number`);
    /// TurboJPEG 2.1 has no run-time version call, so libjpeg-turbo's is the headers' at build
    /// time (the package's dependency keeps the run-time library at that ABI).
    package static var versions: [(library: String, version: String)] {
        let number = Int(LIBJPEG_TURBO_VERSION_NUMBER)
        let turbo = "\(number / 1_000_000).\(number / 1000 % 1000).\(number % 1000) (headers at build time)"
        let pngNumber = Int(png_access_version_number())  // 10639 is 1.6.39
        let png = "\(pngNumber / 10000).\(pngNumber / 100 % 100).\(pngNumber % 100)"
        return [("libjpeg-turbo", turbo), ("libpng", png)]
    }
}

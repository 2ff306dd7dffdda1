// OutboxLibraries: the loaded SQLite's version (through GRDB), for --version.
import GRDB

/// The database library's version, as `kioskd --version` and `kioskctl report` print it.
package enum OutboxLibraries {
    /// `(library, version)`: SQLite as the loaded library reports it (`sqlite3_libversion_number`).
    package static var versions: [(library: String, version: String)] {
        let number = Int(Database.sqliteLibVersionNumber)
        return [("SQLite", "\(number / 1_000_000).\(number / 1000 % 1000).\(number % 1000)")]
    }
}

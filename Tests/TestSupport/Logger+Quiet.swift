// A logger that drops everything, for components under test.
import Logging

extension Logger {
    /// A logger that drops everything: tests never bootstrap logging, and components take the
    /// logger they are given.
    public static let quiet = Logger(label: "kiosk-test", factory: { _ in SwiftLogNoOpLogHandler() })
}

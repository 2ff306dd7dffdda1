// CommandFailure: a kioskctl failure with its exit class, and how any error maps onto one.
import ArgumentParser
import Camera
import DoorIO
import FaceAiDee
import FaceDetection
import Foundation
import Imaging
import KioskCore
import Outbox

/// A failed command: its class (and so its exit status), a name for `--json`, the message
/// that says what to do next, and the HTTP status when a server answered.
package struct CommandFailure: Error, CustomStringConvertible, Sendable {
    package var exit: KioskctlExit
    /// A finer name than the class where it helps scripts (`tls`, `timeout`, `credentials`);
    /// the class name otherwise.
    package var kind: String
    package var message: String
    package var httpStatus: Int?

    package init(_ exit: KioskctlExit, _ message: String, kind: String? = nil, httpStatus: Int? = nil) {
        self.exit = exit
        self.kind = kind ?? exit.name
        self.message = message
        self.httpStatus = httpStatus
    }

    package var description: String { message }

    /// The `--json` error object: `{"error": {"class", "kind", "message", "exit_code", "status"?}}`.
    package var jsonObject: [String: Any] {
        var error: [String: Any] = ["class": exit.name, "kind": kind, "message": message, "exit_code": Int(exit.rawValue)]
        if let httpStatus { error["status"] = httpStatus }
        return ["error": error]
    }

    /// The class of any error a command can meet. Module errors are mapped by what they mean
    /// for the person at the door (busy → retry, missing → broken, permission → refused).
    package static func classify(_ error: any Error) -> CommandFailure {
        switch error {
        case let failure as CommandFailure:
            return failure
        case let error as ValidationError:
            return CommandFailure(.usage, error.message)
        case let error as FaceAiDeeError:
            return CommandFailure(
                APIExit.code(for: error), error.description, kind: APIExit.kind(for: error), httpStatus: error.httpStatus)
        case let error as ConfigurationError:
            return CommandFailure(.configuration, "\(error)")
        case let error as CameraError:
            return CommandFailure(camera: error)
        case let error as DoorIOError:
            return CommandFailure(door: error)
        case let error as GPIOCommandError:
            return CommandFailure(.failure, error.description)
        case let error as OutboxError:
            return CommandFailure(outbox: error)
        case let error as FaceDetectionError:
            switch error {
            case .inferenceFailed: return CommandFailure(.failure, error.description)
            // The model file or a setting: missing, unusable, not the shipped one.
            default: return CommandFailure(.configuration, error.description)
            }
        case let error as ImagingError:
            switch error {
            case .fileUnreadable, .unsupportedFileFormat, .corruptPNG: return CommandFailure(.inputFile, error.description)
            default: return CommandFailure(.failure, error.description)
            }
        case let error as FrameAnalyzerError:
            switch error {
            case .detection(let inner): return classify(inner)
            case .imaging(let inner): return classify(inner)
            }
        default:
            return CommandFailure(.software, "\(error)")
        }
    }

    init(camera error: CameraError) {
        switch error {
        case .deviceCall(_, _, let code) where code == EBUSY: self.init(.temporary, error.description, kind: "busy")
        case .deviceCall(_, _, let code) where code == EACCES || code == EPERM: self.init(.permission, error.description)
        case .unknownControl, .invalidControlValue: self.init(.usage, error.description)
        case .replay: self.init(.inputFile, error.description)
        default: self.init(.failure, error.description)
        }
    }

    init(door error: DoorIOError) {
        switch error {
        case .lineBusy: self.init(.temporary, error.description, kind: "busy")
        case .invalidConfiguration, .roleNotConfigured: self.init(.configuration, error.description)
        case .chipNotFound(_, let code, _) where code == EACCES || code == EPERM: self.init(.permission, error.description)
        default: self.init(.failure, error.description)
        }
    }

    init(outbox error: OutboxError) {
        switch error {
        case .stateDirectoryUnavailable, .databaseMissing: self.init(.inputFile, error.description)
        case .databaseCorrupt: self.init(.dataError, error.description)
        case .keyFileMissing, .keyFileInsecure, .keyInvalid, .credentialMissing: self.init(.configuration, error.description)
        default: self.init(.failure, error.description)
        }
    }
}

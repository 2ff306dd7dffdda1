import Camera
import DoorIO
import FaceAiDee
import FaceDetection
import Foundation
import Outbox

/// Translations from the daemon's configuration into each module's own settings. One place, so
/// `kioskd` and `kioskctl` build components the same way from the same file.
extension KioskConfiguration {
    /// A secret file named without a path is a systemd credential (`LoadCredential=`): look in
    /// `$CREDENTIALS_DIRECTORY` first, then relative to the working directory.
    public static func resolveSecretPath(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        guard !name.contains("/"), let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
            return name
        }
        let candidate = directory + "/" + name
        return FileManager.default.fileExists(atPath: candidate) ? candidate : name
    }

    public var apiClientConfiguration: FaceAiDeeConfiguration {
        FaceAiDeeConfiguration(
            baseURL: api.url, connectTimeout: api.connectTimeout, requestTimeout: api.requestTimeout,
            caFile: api.caFile, verifyTLS: api.verifyTLS, renewalMargin: api.tokenRenewMargin)
    }

    public var cameraConfiguration: CameraConfiguration {
        var c = CameraConfiguration(device: camera.device)
        c.width = camera.width
        c.height = camera.height
        c.framesPerSecond = Double(camera.fps)
        switch camera.format.lowercased() {
        case "mjpeg": c.formats = [.mjpeg]
        case "yuyv": c.formats = [.yuyv]
        default: c.formats = [.mjpeg, .yuyv]
        }
        c.stallTimeout = camera.stallTimeout
        c.controls = camera.controls.compactMap { entry in
            guard let equals = entry.firstIndex(of: "=") else { return nil }
            return ControlSetting(name: String(entry[..<equals]).trimmingCharacters(in: .whitespaces),
                                  value: String(entry[entry.index(after: equals)...]).trimmingCharacters(in: .whitespaces))
        }
        // The daemon waits for a camera that is not plugged in yet, and says so in its status.
        c.waitForDevice = true
        return c
    }

    public var detectorConfiguration: YuNetFaceDetector.Configuration {
        var c = YuNetFaceDetector.Configuration(modelPath: detection.model)
        c.scoreThreshold = detection.scoreThreshold
        c.threads = detection.threads
        return c
    }

    public var doorConfiguration: DoorIOConfiguration {
        let low = Set(door.activeLowLines)
        func output(_ role: String, _ line: String) -> GPIOOutputLine? {
            line.isEmpty ? nil : GPIOOutputLine(GPIOLineSelector(parsing: line), activeLow: low.contains(role))
        }
        func input(_ role: String, _ line: String) -> GPIOInputLine? {
            line.isEmpty ? nil : GPIOInputLine(GPIOLineSelector(parsing: line), activeLow: low.contains(role))
        }
        return DoorIOConfiguration(
            backend: door.backend == .console ? .console : .gpiod,
            chip: door.chip,
            relay: output("relay", door.relayLine) ?? GPIOOutputLine(.name("door-relay")),
            ledGranted: output("led_granted", door.grantedLEDLine),
            ledDenied: output("led_denied", door.deniedLEDLine),
            ledFault: output("led_fault", door.faultLEDLine),
            ledIdle: output("led_idle", door.idleLEDLine),
            buzzer: output("buzzer", door.buzzerLine),
            doorSensor: input("door_sensor", door.doorSensorLine),
            doorSensorWiring: door.doorSensorWiring == "normally_closed" ? .normallyClosed : .normallyOpen,
            exitButton: input("exit_button", door.exitButtonLine),
            tamper: input("tamper", door.tamperLine),
            relayPulse: door.relayPulse,
            endPulseWhenDoorOpens: door.endPulseWhenDoorOpens,
            holdUntilOpen: door.holdUntilOpen > .zero ? door.holdUntilOpen : nil,
            heldOpenAlarmAfter: door.heldOpenAlarmAfter,
            debounce: door.debounce)
    }

    /// `outbox.ambiguous` in the outbox module's terms.
    public var ambiguousDeliveryPolicy: AmbiguousDeliveryPolicy {
        outbox.ambiguous == .giveUp ? .giveUp : .retry
    }

    /// Why the API connection is not protected, or nil when it is: `api.verify_tls` off, or a
    /// plain `http://` URL to a host that is not loopback (anyone on the path can read the
    /// face images and the token, or answer in the server's place). For the start-up log and
    /// `kioskctl status`.
    public var insecureTransportWarning: String? {
        var problems: [String] = []
        let url = URL(string: api.url)
        let scheme = url?.scheme?.lowercased()
        let host = (url?.host ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if scheme == "http" && !Self.isLoopback(host) {
            problems.append("api.url \(api.url) is plain http to a host that is not loopback: face images and the API token cross the network unencrypted; use https")
        }
        if !api.verifyTLS && scheme != "http" {
            problems.append("api.verify_tls is off: any server can pose as Face AiDee and open the door; turn it on (use api.ca_file for a private CA)")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.") || host.hasSuffix(".localhost")
    }

    public func outboxConfiguration() -> OutboxConfiguration {
        let keyPath = Self.resolveSecretPath(outbox.keyFile)
        let key: OutboxKeySource
        if keyPath.contains("/") {
            key = .file(path: keyPath, generateIfMissing: false)
        } else {
            key = .file(path: outbox.stateDirectory + "/" + keyPath, generateIfMissing: true)
        }
        return OutboxConfiguration(
            stateDirectory: outbox.stateDirectory,
            key: key,
            limits: OutboxLimits(maxItems: outbox.maxItems, maxBytes: outbox.maxBytes, maxAge: outbox.maxAge,
                                 fullPolicy: outbox.whenFull == .refuseNew ? .refuseNew : .dropOldest),
            journalRetention: JournalRetention(maxRows: outbox.journalMaxRows, maxAge: outbox.journalMaxAge))
    }
}

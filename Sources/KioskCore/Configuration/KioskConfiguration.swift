import Foundation

/// Everything `kioskd` is configured with, read once from the layered sources
/// (flags > environment > YAML file > defaults) by ``ConfigurationLoader``.
///
/// Each component gets its own documented struct; defaults are chosen for a typical door with a
/// 640×480 USB camera at 0.5–1.5 m, and each says why in `config/kioskd.yaml`.
public struct KioskConfiguration: Sendable, Equatable {
    public var api = APISettings()
    public var camera = CameraSettings()
    public var detection = DetectionSettings()
    public var pipeline = PipelineSettings()
    public var policy = PolicySettings()
    public var door = DoorSettings()
    public var outbox = OutboxSettings()
    public var status = StatusSettings()
    public var privacy = PrivacySettings()

    public init() {}
}

/// Where the Face AiDee API is and how to talk to it (`api.*`).
public struct APISettings: Sendable, Equatable {
    /// Server root, e.g. `https://api.example.com`; the client appends `/api/v1`.
    public var url = "http://127.0.0.1:8080"
    /// The project whose enrolled users may check in here.
    public var projectID = 1
    /// File with `key=` and `secret=` lines, mode 0600. A relative name is looked up in
    /// `$CREDENTIALS_DIRECTORY` first (systemd `LoadCredential=`).
    public var credentialsFile = "/etc/kiosk-agent/credentials"
    /// Extra CA bundle for a private server certificate; system roots otherwise.
    public var caFile: String?
    /// TLS verification; only ever turned off for a lab server.
    public var verifyTLS = true
    public var connectTimeout: Duration = .seconds(3)
    /// The whole request; a door cannot keep a person waiting longer.
    public var requestTimeout: Duration = .seconds(6)
    /// Renew the token this long before it expires.
    public var tokenRenewMargin: Duration = .seconds(60)
    /// Check-in `condition` as a JSON object text, e.g. `{"group_id": 2}`; empty for none.
    public var conditionJSON = ""
    /// Check-in `option` (see docs/API.md); `nil` sends none.
    public var option: Int?

    public init() {}
}

/// Which frames the agent sees (`camera.*`).
public struct CameraSettings: Sendable, Equatable {
    public enum Source: String, Sendable, CaseIterable { case v4l2, replay }
    public var source: Source = .v4l2
    /// Device path or a `/dev/v4l/by-id/…` name.
    public var device = "/dev/video0"
    public var width = 640
    public var height = 480
    public var fps = 30
    /// `auto` prefers MJPEG and accepts YUYV.
    public var format = "auto"
    /// No frame for this long counts as a stalled stream: the camera is reopened.
    public var stallTimeout: Duration = .seconds(3)
    /// Controls applied each time the camera opens, as `name=value` (names as
    /// `kioskctl camera controls` lists them), e.g. `power_line_frequency=50 Hz`.
    public var controls: [String] = []
    /// `camera.replay.*`: a folder of images or an MJPEG file (demo, tests, field reproduction).
    public var replayPath = ""
    public var replayFPS = 15
    public var replayLoop = false

    public init() {}
}

/// On-device detection (`detection.*`).
public struct DetectionSettings: Sendable, Equatable {
    public var model = "/usr/share/kiosk-agent/models/face_detection_yunet_2023mar.onnx"
    /// YuNet's score; on the public set every face scored ≥ 0.90 and no non-face above 0.42
    /// (docs/DETECTION.md); the quality checks add their own stricter floor before a check-in.
    public var scoreThreshold = 0.7
    /// Smallest face box side in full-frame pixels that may start a check-in.
    public var minFaceSize = 60
    /// OpenCV threads: one leaves a core for capture and networking on a 2–4 core board.
    public var threads = 1
    public enum MultipleFaces: String, Sendable, CaseIterable {
        /// The largest (closest) face wins.
        case largest
        /// Refuse and signal "one person at a time".
        case refuse
    }
    public var multipleFaces: MultipleFaces = .largest

    public init() {}
}

/// The check-in state machine's timing (`pipeline.*`).
public struct PipelineSettings: Sendable, Equatable {
    /// After a face first qualifies, keep the best frame for this long.
    public var selectionWindow: Duration = .milliseconds(600)
    /// Submit at once when a frame's combined quality reaches this.
    public var goodEnough = 0.85
    /// Give up when no frame qualifies for this long after a face appears.
    public var giveUpAfter: Duration = .seconds(3)
    /// The longest a person waits for the server's answer. Past it the offline policy decides
    /// (fail-secure or fail-open) and the door signals at once; the request goes on and its
    /// answer is a late outcome. 1.5 s: a healthy server answers a check-in in well under a
    /// second, people at a door start to doubt it after about two, and the watchdog's limit is
    /// far longer.
    public var decisionDeadline: Duration = .milliseconds(1500)
    /// A grant that comes after the deadline opens the door only within this long of the
    /// decision, and only while the same person is still in view; otherwise it is journaled.
    public var lateGrantWindow: Duration = .seconds(5)
    /// After a decision, wait until nobody is in view for `absenceToReset` or this time passes.
    public var cooldown: Duration = .seconds(5)
    /// The scene counts as empty after this long without a face.
    public var absenceToReset: Duration = .milliseconds(1500)
    /// Send the face crop with this margin (fraction of the box) instead of the full frame.
    public var cropMargin = 0.4
    /// Send the full frame instead of the crop.
    public var sendFullFrame = false
    /// JPEG quality of what is uploaded.
    public var jpegQuality = 90
    /// Width the detector sees; decoding scales down to about this.
    public var detectionWidth = 320

    public init() {}
}

/// How an answer becomes a door decision (`policy.*`).
public struct PolicySettings: Sendable, Equatable {
    /// User statuses that open the door.
    public var allowedStatuses: [String] = ["APPROVED"]
    /// Minimum similarity (percent) that opens the door.
    public var minSimilarity = 80.0
    public enum Offline: String, Sendable, CaseIterable {
        /// Keep the door shut when the server cannot answer (the default: a face alone cannot be checked).
        case failSecure = "fail_secure"
        /// Open anyway (sites where being locked out is worse than an unchecked entry).
        case failOpen = "fail_open"
    }
    public var offline: Offline = .failSecure
    /// Queue check-ins that could not be sent, for later delivery to the server.
    public var queueOffline = true
    /// Weekly windows in which the door may open, e.g. `mon-fri 07:00-19:00`; empty = always.
    public var schedule: [String] = []

    public init() {}
}

/// Door hardware (`door.*`); line roles map onto GPIO lines by name or offset.
public struct DoorSettings: Sendable, Equatable {
    public enum Backend: String, Sendable, CaseIterable { case gpiod, console }
    /// `console` prints transitions instead of driving GPIO: for demos and development only.
    public var backend: Backend = .gpiod
    public var chip = "gpiochip0"
    public var relayLine = "door-relay"
    public var grantedLEDLine = ""
    public var deniedLEDLine = ""
    public var faultLEDLine = ""
    public var idleLEDLine = ""
    public var buzzerLine = ""
    public var doorSensorLine = ""
    public var exitButtonLine = ""
    public var tamperLine = ""
    /// Lines (by the names above) wired active-low.
    public var activeLowLines: [String] = []
    /// `normally_open` or `normally_closed` door sensor wiring.
    public var doorSensorWiring = "normally_open"
    public var relayPulse: Duration = .seconds(3)
    /// Keep the strike released until the door opens, up to this long (needs a door sensor);
    /// zero = a plain pulse.
    public var holdUntilOpen: Duration = .zero
    /// Re-arm the lock as soon as the door opens instead of at the end of the pulse.
    public var endPulseWhenDoorOpens = true
    public var heldOpenAlarmAfter: Duration = .seconds(30)
    public var debounce: Duration = .milliseconds(50)

    public init() {}
}

/// The offline queue and journal (`outbox.*`).
public struct OutboxSettings: Sendable, Equatable {
    public var stateDirectory = "/var/lib/kiosk-agent"
    public var maxItems = 1000
    public var maxBytes = 64 * 1024 * 1024
    public var maxAge: Duration = .seconds(7 * 86400)
    public enum WhenFull: String, Sendable, CaseIterable {
        case dropOldest = "drop_oldest"
        case refuseNew = "refuse_new"
    }
    public var whenFull: WhenFull = .dropOldest
    /// A check-in whose post went out and got no answer may be on the server already (the API
    /// has no idempotency key). `retry` posts it once more (journaled `possible-duplicate`);
    /// `give_up` journals it and never sends it again.
    public enum Ambiguous: String, Sendable, CaseIterable {
        case retry
        case giveUp = "give_up"
    }
    public var ambiguous: Ambiguous = .retry
    /// Key for encrypting queued images at rest; a relative name is looked up in
    /// `$CREDENTIALS_DIRECTORY` first.
    public var keyFile = "/etc/kiosk-agent/outbox.key"
    public var journalMaxRows = 100_000
    public var journalMaxAge: Duration = .seconds(90 * 86400)

    public init() {}
}

/// Status for people and fleets (`status.*`).
public struct StatusSettings: Sendable, Equatable {
    public var file = "/run/kiosk-agent/status.json"
    /// node_exporter textfile-collector file; empty disables it.
    public var metricsFile = ""
    public var interval: Duration = .seconds(5)
    /// Group given to the status and metrics files (mode 0640), so a monitoring agent in that
    /// group can read them; empty keeps the service's own group.
    public var group = ""

    public init() {}
}

/// Biometric data handling (`privacy.*`).
public struct PrivacySettings: Sendable, Equatable {
    /// Keep uploaded face crops on disk (for support); off by default: images stay in memory.
    public var keepImages = false
    public var keepImagesDirectory = "/var/lib/kiosk-agent/images"
    /// Kept images older than this are deleted.
    public var keepImagesMaxAge: Duration = .seconds(7 * 86_400)
    /// At most this many kept images; the oldest go first.
    public var keepImagesMaxCount = 1000

    public init() {}
}

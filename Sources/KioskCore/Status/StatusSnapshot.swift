// StatusSnapshot: what kioskd reports about itself, as status.json and Prometheus text.
package import Foundation

/// What `kioskd` reports about itself: written to `status.json` for people and `kioskctl
/// status`, and as Prometheus metrics for fleets. Never contains an image, token or secret.
package struct StatusSnapshot: Codable, Sendable, Equatable {
    package struct LastDecision: Codable, Sendable, Equatable {
        package var at: Date
        package var granted: Bool
        package var reason: String
        package var userID: Int?
        package var similarity: Double?
        /// Milliseconds per stage: capture, detect, select, encode, upload, decide.
        package var latencyMs: [String: Double]

        package init(at: Date, granted: Bool, reason: String, userID: Int?, similarity: Double?, latencyMs: [String: Double]) {
            self.at = at
            self.granted = granted
            self.reason = reason
            self.userID = userID
            self.similarity = similarity
            self.latencyMs = latencyMs
        }

        enum CodingKeys: String, CodingKey {
            case at, granted, reason, similarity
            case userID = "user_id"
            case latencyMs = "latency_ms"
        }
    }

    package struct CameraStatus: Codable, Sendable, Equatable {
        package var source = ""
        package var connected = false
        package var fps = 0.0
        package var framesCaptured = 0
        package var framesDropped = 0
        package var framesCorrupt = 0
        package var lastError: String?

        package init() {}

        enum CodingKeys: String, CodingKey {
            case source, connected, fps
            case framesCaptured = "frames_captured"
            case framesDropped = "frames_dropped"
            case framesCorrupt = "frames_corrupt"
            case lastError = "last_error"
        }
    }

    package struct ServerStatus: Codable, Sendable, Equatable {
        package var url = ""
        package var healthy: Bool?
        package var lastSuccessAt: Date?
        package var lastError: String?
        package var tokenExpiresAt: Date?

        package init() {}

        enum CodingKeys: String, CodingKey {
            case url, healthy
            case lastSuccessAt = "last_success_at"
            case lastError = "last_error"
            case tokenExpiresAt = "token_expires_at"
        }
    }

    package struct QueueStatus: Codable, Sendable, Equatable {
        package var depth = 0
        package var bytes = 0
        package var dropped = 0
        package var delivered = 0
        package var lastError: String?
        /// False while check-ins cannot be queued nor events journaled (storage full, read-only or
        /// failing, or the state directory could not be opened at start); nil in older status files.
        package var available: Bool?
        /// Why the queue is unavailable (names the file and what to do), while it is.
        package var unavailableReason: String?

        package init() {}

        enum CodingKeys: String, CodingKey {
            case depth, bytes, dropped, delivered, available
            case lastError = "last_error"
            case unavailableReason = "unavailable_reason"
        }
    }

    package var version = KioskVersion.current
    package var pid = Int(ProcessInfo.processInfo.processIdentifier)
    package var startedAt = Date()
    package var updatedAt = Date()
    /// The pipeline's state: starting, idle, selecting, submitting, cooldown, stopping, fault.
    package var state = "starting"
    package var stateDetail: String?
    package var lastDecision: LastDecision?
    package var decisions: [String: Int] = [:]
    /// Server answers that came after `pipeline.decision_deadline` (nil until the first).
    package var lateAnswers: Int?
    /// Check-ins posted whose answer never came (the server may have recorded them), live and
    /// queued, from the queue's persistent counter; nil in status files from older versions.
    package var ambiguousDeliveries: Int?
    /// Why the connection to the server is not protected (`api.verify_tls` off, plain http to a
    /// host that is not loopback), or nil.
    package var insecureTransport: String?
    /// Why the last person in view could not be checked in (the selector gave up), for the
    /// technician; nil until that happens.
    package var lastGiveUp: String?
    package var camera = CameraStatus()
    package var detectorMs: Double?
    package var queue = QueueStatus()
    package var server = ServerStatus()
    package var door = "idle"

    package init() {}

    enum CodingKeys: String, CodingKey {
        case version, pid, state, decisions, camera, queue, server, door
        case startedAt = "started_at"
        case updatedAt = "updated_at"
        case stateDetail = "state_detail"
        case lastDecision = "last_decision"
        case detectorMs = "detector_ms"
        case lateAnswers = "late_answers"
        case ambiguousDeliveries = "ambiguous_deliveries"
        case insecureTransport = "insecure_transport"
        case lastGiveUp = "last_give_up"
    }

    /// JSON as written to `status.json` (sorted keys, ISO 8601 dates).
    package func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    package static func decode(_ data: Data) throws -> StatusSnapshot {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(StatusSnapshot.self, from: data)
    }

    /// Prometheus text exposition format, for node_exporter's textfile collector.
    package func prometheusText() -> String {
        var out = ""
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(labels: String, value: Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                out += "\(name)\(sample.labels.isEmpty ? "" : "{\(sample.labels)}") \(Self.number(sample.value))\n"
            }
        }
        metric("kiosk_up", "1 while kioskd runs.", "gauge", [("", 1)])
        metric(
            "kiosk_start_time_seconds", "Start time of kioskd (Unix seconds).", "gauge",
            [("", startedAt.timeIntervalSince1970)])
        let states = ["starting", "idle", "selecting", "submitting", "cooldown", "stopping", "fault"]
        metric(
            "kiosk_state", "The pipeline's current state (1 for the current one).", "gauge",
            states.map { ("state=\"\($0)\"", $0 == state ? 1 : 0) })
        metric(
            "kiosk_decisions_total", "Decisions by reason.", "counter",
            decisions.sorted { $0.key < $1.key }.map { ("reason=\"\($0.key)\"", Double($0.value)) })
        metric(
            "kiosk_late_answers_total", "Server answers that came after the decision deadline.", "counter",
            [("", Double(lateAnswers ?? 0))])
        metric(
            "kiosk_ambiguous_deliveries_total",
            "Check-ins posted whose answer never came: the server may have recorded them (possible duplicates).",
            "counter", [("", Double(ambiguousDeliveries ?? 0))])
        metric(
            "kiosk_insecure_transport", "1 when api.verify_tls is off or the API URL is plain http to another host.",
            "gauge", [("", insecureTransport == nil ? 0 : 1)])
        metric("kiosk_camera_connected", "1 when the camera delivers frames.", "gauge", [("", camera.connected ? 1 : 0)])
        metric("kiosk_camera_fps", "Frames per second received from the camera.", "gauge", [("", camera.fps)])
        metric(
            "kiosk_camera_frames_total", "Frames by fate.", "counter",
            [
                ("fate=\"captured\"", Double(camera.framesCaptured)), ("fate=\"dropped\"", Double(camera.framesDropped)),
                ("fate=\"corrupt\"", Double(camera.framesCorrupt)),
            ])
        if let detectorMs {
            metric("kiosk_detector_seconds", "Time of the last face detection.", "gauge", [("", detectorMs / 1000)])
        }
        metric("kiosk_queue_depth", "Check-ins waiting in the offline queue.", "gauge", [("", Double(queue.depth))])
        metric("kiosk_queue_bytes", "Bytes waiting in the offline queue.", "gauge", [("", Double(queue.bytes))])
        if let available = queue.available {
            metric(
                "kiosk_queue_available", "1 while check-ins can be queued and events journaled (0: storage full, read-only or failing).",
                "gauge", [("", available ? 1 : 0)])
        }
        metric("kiosk_queue_dropped_total", "Queued check-ins dropped for a limit.", "counter", [("", Double(queue.dropped))])
        if let healthy = server.healthy {
            metric("kiosk_server_up", "1 when the last request reached the server.", "gauge", [("", healthy ? 1 : 0)])
        }
        if let expiry = server.tokenExpiresAt {
            metric(
                "kiosk_token_expiry_timestamp_seconds", "When the API token expires (Unix seconds).", "gauge",
                [("", expiry.timeIntervalSince1970)])
        }
        return out
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

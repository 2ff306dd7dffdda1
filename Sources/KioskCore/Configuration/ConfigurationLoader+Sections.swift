import Foundation

extension Reader {
    /// Reads every key of every section. The key names here are the documented ones in
    /// config/kioskd.yaml; `ConfigurationLoader.knownKeys` is derived from this function.
    func read(into c: inout KioskConfiguration) {
        string("api.url", &c.api.url)
        int("api.project_id", &c.api.projectID, range: 1...Int.max)
        string("api.credentials_file", &c.api.credentialsFile)
        optionalString("api.ca_file", &c.api.caFile)
        bool("api.verify_tls", &c.api.verifyTLS)
        duration("api.connect_timeout", &c.api.connectTimeout, max: .seconds(60))
        duration("api.request_timeout", &c.api.requestTimeout, max: .seconds(120))
        duration("api.token_renew_margin", &c.api.tokenRenewMargin, max: .seconds(86400))
        string("api.condition", &c.api.conditionJSON)
        optionalInt("api.option", &c.api.option)

        choice("camera.source", &c.camera.source)
        string("camera.device", &c.camera.device)
        int("camera.width", &c.camera.width, range: 160...4096)
        int("camera.height", &c.camera.height, range: 120...4096)
        int("camera.fps", &c.camera.fps, range: 1...120)
        string("camera.format", &c.camera.format)
        duration("camera.stall_timeout", &c.camera.stallTimeout, max: .seconds(600))
        stringList("camera.controls", &c.camera.controls)
        string("camera.replay.path", &c.camera.replayPath)
        int("camera.replay.fps", &c.camera.replayFPS, range: 1...120)
        bool("camera.replay.loop", &c.camera.replayLoop)

        string("detection.model", &c.detection.model)
        double("detection.score_threshold", &c.detection.scoreThreshold, range: 0.1...0.99)
        int("detection.min_face_size", &c.detection.minFaceSize, range: 16...2048)
        int("detection.threads", &c.detection.threads, range: 1...16)
        choice("detection.multiple_faces", &c.detection.multipleFaces)

        duration("pipeline.selection_window", &c.pipeline.selectionWindow, max: .seconds(10))
        double("pipeline.good_enough", &c.pipeline.goodEnough, range: 0...1)
        duration("pipeline.give_up_after", &c.pipeline.giveUpAfter, max: .seconds(60))
        duration("pipeline.decision_deadline", &c.pipeline.decisionDeadline, max: .seconds(30))
        duration("pipeline.late_grant_window", &c.pipeline.lateGrantWindow, max: .seconds(60))
        duration("pipeline.cooldown", &c.pipeline.cooldown, max: .seconds(600))
        duration("pipeline.absence_to_reset", &c.pipeline.absenceToReset, max: .seconds(60))
        double("pipeline.crop_margin", &c.pipeline.cropMargin, range: 0...2)
        bool("pipeline.send_full_frame", &c.pipeline.sendFullFrame)
        int("pipeline.jpeg_quality", &c.pipeline.jpegQuality, range: 30...100)
        int("pipeline.detection_width", &c.pipeline.detectionWidth, range: 160...1920)

        stringList("policy.allowed_statuses", &c.policy.allowedStatuses)
        double("policy.min_similarity", &c.policy.minSimilarity, range: 0...100)
        choice("policy.offline", &c.policy.offline)
        bool("policy.queue_offline", &c.policy.queueOffline)
        stringList("policy.schedule", &c.policy.schedule)

        choice("door.backend", &c.door.backend)
        string("door.chip", &c.door.chip)
        string("door.lines.relay", &c.door.relayLine)
        string("door.lines.led_granted", &c.door.grantedLEDLine)
        string("door.lines.led_denied", &c.door.deniedLEDLine)
        string("door.lines.led_fault", &c.door.faultLEDLine)
        string("door.lines.led_idle", &c.door.idleLEDLine)
        string("door.lines.buzzer", &c.door.buzzerLine)
        string("door.lines.door_sensor", &c.door.doorSensorLine)
        string("door.lines.exit_button", &c.door.exitButtonLine)
        string("door.lines.tamper", &c.door.tamperLine)
        stringList("door.active_low", &c.door.activeLowLines)
        string("door.door_sensor_wiring", &c.door.doorSensorWiring)
        duration("door.relay_pulse", &c.door.relayPulse, max: .seconds(60))
        duration("door.hold_until_open", &c.door.holdUntilOpen, max: .seconds(120))
        bool("door.end_pulse_when_door_opens", &c.door.endPulseWhenDoorOpens)
        duration("door.held_open_alarm_after", &c.door.heldOpenAlarmAfter, max: .seconds(3600))
        duration("door.debounce", &c.door.debounce, max: .seconds(2))

        string("outbox.state_directory", &c.outbox.stateDirectory)
        int("outbox.max_items", &c.outbox.maxItems, range: 1...1_000_000)
        int("outbox.max_bytes", &c.outbox.maxBytes, range: 1024...(16 << 30))
        duration("outbox.max_age", &c.outbox.maxAge)
        choice("outbox.when_full", &c.outbox.whenFull)
        choice("outbox.ambiguous", &c.outbox.ambiguous)
        string("outbox.key_file", &c.outbox.keyFile)
        int("outbox.journal_max_rows", &c.outbox.journalMaxRows, range: 100...100_000_000)
        duration("outbox.journal_max_age", &c.outbox.journalMaxAge, max: .seconds(10 * 365 * 86400))

        string("status.file", &c.status.file)
        string("status.metrics_file", &c.status.metricsFile)
        duration("status.interval", &c.status.interval, max: .seconds(3600))
        string("status.group", &c.status.group)

        bool("privacy.keep_images", &c.privacy.keepImages)
        string("privacy.keep_images_directory", &c.privacy.keepImagesDirectory)
        duration("privacy.keep_images_max_age", &c.privacy.keepImagesMaxAge, max: .seconds(366 * 86_400))
        int("privacy.keep_images_max_count", &c.privacy.keepImagesMaxCount, range: 1...1_000_000)
    }

    /// Checks that need more than one key, or more than a type.
    func validate(_ c: KioskConfiguration) {
        func issue(_ key: String, _ message: String) {
            issues.append(.init(key: key, source: source(of: key), message: message))
        }
        let url = URL(string: c.api.url)
        if url?.host == nil || !["http", "https"].contains(url?.scheme ?? "") {
            issue("api.url", "'\(c.api.url)' is not an http(s) URL, e.g. https://api.example.com")
        }
        if !c.api.conditionJSON.isEmpty {
            let parsed = try? JSONSerialization.jsonObject(with: Data(c.api.conditionJSON.utf8))
            if !(parsed is [String: Any]) {
                issue("api.condition", "must be a JSON object, e.g. {\"group_id\": 2}")
            }
        }
        if c.api.requestTimeout < c.api.connectTimeout {
            issue("api.request_timeout", "is shorter than api.connect_timeout")
        }
        if c.camera.source == .replay, c.camera.replayPath.isEmpty {
            issue("camera.replay.path", "is required when camera.source is replay")
        }
        for control in c.camera.controls where !control.contains("=") {
            issue("camera.controls", "'\(control)' is not name=value, e.g. power_line_frequency=50 Hz")
        }
        if !["auto", "mjpeg", "yuyv"].contains(c.camera.format.lowercased()) {
            issue("camera.format", "'\(c.camera.format)' is not one of: auto, mjpeg, yuyv")
        }
        if c.policy.allowedStatuses.isEmpty {
            issue("policy.allowed_statuses", "is empty: no user could ever be let in")
        }
        for (index, entry) in c.policy.schedule.enumerated() {
            if case .failure(let problem) = Result(catching: { try WeeklySchedule.Window(parsing: entry) }) {
                issue("policy.schedule", "entry \(index + 1) '\(entry)': \(problem)")
            }
        }
        if c.door.backend == .gpiod, c.door.relayLine.isEmpty {
            issue("door.lines.relay", "is required with the gpiod backend")
        }
        if !["normally_open", "normally_closed"].contains(c.door.doorSensorWiring) {
            issue("door.door_sensor_wiring", "'\(c.door.doorSensorWiring)' is not one of: normally_open, normally_closed")
        }
        if c.pipeline.giveUpAfter < c.pipeline.selectionWindow {
            issue("pipeline.give_up_after", "is shorter than pipeline.selection_window")
        }
        if c.pipeline.decisionDeadline < .milliseconds(100) {
            issue("pipeline.decision_deadline", "must be at least 100ms: shorter decides nearly every check-in offline")
        }
    }
}

/// The check-in state machine's timing (`pipeline.*`). `CheckInPipeline` takes it as it is.
package struct PipelineSettings: Sendable, Equatable {
    /// After a face first qualifies, keep the best frame for this long.
    package var selectionWindow: Duration = .milliseconds(600)
    /// Submit at once when a frame's combined quality reaches this.
    package var goodEnough = 0.85
    /// Give up when no frame qualifies for this long after a face appears.
    package var giveUpAfter: Duration = .seconds(3)
    /// The longest a person waits for the server's answer. Past it the offline policy decides
    /// (fail-secure or fail-open) and the door signals at once; the request goes on and its
    /// answer is a late outcome. 1.5 s: a healthy server answers a check-in in well under a
    /// second, people at a door start to doubt it after about two, and the watchdog's limit is
    /// far longer.
    package var decisionDeadline: Duration = .milliseconds(1500)
    /// A grant that comes after the deadline opens the door only within this long of the
    /// decision, and only while the same person is still in view; otherwise it is journaled.
    package var lateGrantWindow: Duration = .seconds(5)
    /// After a decision, wait until nobody is in view for `absenceToReset` or this time passes.
    package var cooldown: Duration = .seconds(5)
    /// The scene counts as empty after this long without a face.
    package var absenceToReset: Duration = .milliseconds(1500)
    /// Send the face crop with this margin (fraction of the box) instead of the full frame.
    package var cropMargin = 0.4
    /// Send the full frame instead of the crop.
    package var sendFullFrame = false
    /// JPEG quality of what is uploaded.
    package var jpegQuality = 90
    /// Width the detector sees; decoding scales down to about this.
    package var detectionWidth = 320
    /// Skip the detector on frames of an empty scene that has not changed (most of the day at
    /// a door): a person's arrival wakes it on the same frame (``IdleSceneGate``).
    package var idleGate = true
    /// Grey levels (0-255) a thumbnail cell must move to count as change; 12 is well above a
    /// camera's noise on cell means and well below a person against any background.
    package var idleChangeLevel = 12
    /// While the empty scene stays still, detect anyway at least this often (a face whose
    /// arrival was too subtle for the change threshold waits at most this long).
    package var idleRecheck: Duration = .seconds(1)

    package init() {}
}

extension PipelineSettings: ConfigurationSection {
    static let name = "pipeline"

    mutating func read(from keys: SectionReader) {
        keys.duration("selection_window", &selectionWindow, max: .seconds(10))
        keys.double("good_enough", &goodEnough, range: 0...1)
        keys.duration("give_up_after", &giveUpAfter, max: .seconds(60))
        keys.duration("decision_deadline", &decisionDeadline, max: .seconds(30))
        keys.duration("late_grant_window", &lateGrantWindow, max: .seconds(60))
        keys.duration("cooldown", &cooldown, max: .seconds(600))
        keys.duration("absence_to_reset", &absenceToReset, max: .seconds(60))
        keys.double("crop_margin", &cropMargin, range: 0...2)
        keys.bool("send_full_frame", &sendFullFrame)
        keys.int("jpeg_quality", &jpegQuality, range: 30...100)
        keys.int("detection_width", &detectionWidth, range: 160...1920)
        keys.bool("idle_gate", &idleGate)
        keys.int("idle_change_level", &idleChangeLevel, range: 1...255)
        keys.duration("idle_recheck", &idleRecheck, max: .seconds(60))
    }

    func validate(_ keys: SectionReader) {
        if giveUpAfter < selectionWindow {
            keys.issue("give_up_after", "is shorter than pipeline.selection_window")
        }
        if decisionDeadline < .milliseconds(100) {
            keys.issue("decision_deadline", "must be at least 100ms: shorter decides nearly every check-in offline")
        }
    }
}

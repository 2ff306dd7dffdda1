import Camera
import DoorIO
import FaceDetection
import Foundation
import Logging
import Outbox
import Synchronization

/// The check-in path: frames in; decisions, door signals and journal entries out.
///
/// One loop consumes the newest frame at a time (the source drops stale ones), so the door
/// never lags the camera. State machine (docs/ARCHITECTURE.md):
/// idle → selecting (a face qualified) → submitting → decided (signal, journal) → cooldown
/// (``PresenceGate``) → idle. The loop also wakes on a tick without frames, so timeouts fire
/// and the watchdog heartbeat keeps beating while the camera is being reopened.
public final class CheckInPipeline: Sendable {
    /// What can change on SIGHUP without restarting: thresholds, timings, policy.
    public struct Tunables: Sendable {
        public var pipeline: PipelineSettings
        public var detection: DetectionSettings
        public var policy: DecisionPolicy
        public var conditionJSON: String
        public var option: Int?
        public var keepImages: Bool

        public init(configuration: KioskConfiguration, policy: DecisionPolicy) {
            pipeline = configuration.pipeline
            detection = configuration.detection
            self.policy = policy
            conditionJSON = configuration.api.conditionJSON
            option = configuration.api.option
            keepImages = configuration.privacy.keepImages
        }
    }

    /// The person in front of the door, as far as the pipeline is concerned.
    public enum State: String, Sendable {
        case idle, selecting, submitting, cooldown
    }

    let source: any FrameSource
    let analyzer: FrameAnalyzer
    let gateway: any CheckInGateway
    let door: DoorController
    let recorder: DecisionRecorder
    let status: StatusBoard
    let heartbeat: Heartbeat
    let logger: Logger
    let tunables: Mutex<Tunables>
    let tick: Duration

    public init(source: any FrameSource, analyzer: FrameAnalyzer, gateway: any CheckInGateway, door: DoorController,
                recorder: DecisionRecorder, status: StatusBoard, heartbeat: Heartbeat, tunables: Tunables,
                tick: Duration = .milliseconds(250), logger: Logger) {
        self.source = source
        self.analyzer = analyzer
        self.gateway = gateway
        self.door = door
        self.recorder = recorder
        self.status = status
        self.heartbeat = heartbeat
        self.tunables = Mutex(tunables)
        self.tick = tick
        self.logger = logger
    }

    /// Applies reloaded settings from the next frame on.
    public func reload(_ new: Tunables) {
        tunables.withLock { $0 = new }
        logger.notice("pipeline settings reloaded")
    }

    enum Input: Sendable {
        case frame(Frame)
        case tick
        case sourceEnded((any Error)?)
    }

    /// Runs until the task is cancelled (graceful shutdown) or the source ends.
    public func run() async throws {
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .bufferingNewest(4))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [source] in
                do {
                    for try await frame in source.frames() { continuation.yield(.frame(frame)) }
                    continuation.yield(.sourceEnded(nil))
                } catch {
                    continuation.yield(.sourceEnded(error))
                }
            }
            group.addTask { [tick] in
                while !Task.isCancelled {
                    try await Task.sleep(for: tick)
                    continuation.yield(.tick)
                }
            }
            defer {
                group.cancelAll()
                continuation.finish()
            }
            var machine = Machine(tunables: tunables.withLock { $0 })
            for await input in inputs {
                if Task.isCancelled { break }
                heartbeat.beat()
                switch input {
                case .tick:
                    await handleTick(&machine)
                case .frame(let frame):
                    machine.apply(tunables.withLock { $0 })
                    await handle(frame, &machine)
                case .sourceEnded(let error):
                    if let error {
                        logger.error("camera stopped: \(error)", metadata: ["camera": "\(source.name)"])
                        throw PipelineError.sourceFailed(source: source.name, reason: "\(error)")
                    }
                    logger.notice("frame source ended", metadata: ["camera": "\(source.name)"])
                    // Let a decision in progress finish its signal before the group winds down.
                    return
                }
            }
        }
    }

    // MARK: - The state machine

    /// What the selector keeps of a frame for the crop and the journal.
    struct Captured: Sendable {
        var analysis: FrameAnalysis
        /// From the driver's timestamp to the pipeline picking the frame up.
        var captureLatency: Duration
    }

    typealias Selector = BestFrameSelector<Captured, ContinuousClock.Instant>

    struct Machine {
        var tunables: Tunables
        var gate: PresenceGate
        var selector: Selector
        /// When the current person's first face was seen (for the `select` latency).
        var firstFaceAt: ContinuousClock.Instant?
        var state: State = .idle
        var lastRefusalSignal: ContinuousClock.Instant?
        var lastAnalysisError: String?

        init(tunables: Tunables) {
            self.tunables = tunables
            gate = PresenceGate(cooldown: tunables.pipeline.cooldown, absenceToReset: tunables.pipeline.absenceToReset)
            selector = Selector(configuration: Self.selectorConfiguration(tunables))
        }

        static func selectorConfiguration(_ t: Tunables) -> BestFrameSelectorConfiguration {
            var c = BestFrameSelectorConfiguration()
            c.window = t.pipeline.selectionWindow
            c.goodEnoughScore = t.pipeline.goodEnough
            c.timeout = t.pipeline.giveUpAfter
            c.multipleFaces = t.detection.multipleFaces == .refuse ? .refuse : .largestWins
            return c
        }

        /// Takes reloaded settings; a selection in progress restarts under the new ones.
        mutating func apply(_ new: Tunables) {
            let selectorConfiguration = Self.selectorConfiguration(new)
            if selectorConfiguration != selector.configuration {
                selector = Selector(configuration: selectorConfiguration)
            }
            gate.cooldown = new.pipeline.cooldown
            gate.absenceToReset = new.pipeline.absenceToReset
            tunables = new
        }
    }

    func handleTick(_ machine: inout Machine) async {
        // Frames drive the selector; ticks only let the gate reopen while the camera is quiet.
        let open = machine.gate.observe(faceInView: false, at: .now)
        if open, machine.state == .cooldown { setState(.idle, &machine) }
    }

    func handle(_ frame: Frame, _ machine: inout Machine) async {
        let received = ContinuousClock.now
        let captureLatency = MonotonicTime.now().duration(since: frame.timestamp)
        let analysis: FrameAnalysis
        do {
            analysis = try await analyzer.analyze(frame)
        } catch {
            // Once per distinct failure, not once per frame (30 a second); status keeps it.
            let text = "\(error)"
            if machine.lastAnalysisError != text {
                logger.error("frame analysis failed: \(text); the door cannot check anyone in until this is fixed")
                machine.lastAnalysisError = text
            }
            status.update { $0.state = "fault"; $0.stateDetail = text }
            return
        }
        machine.lastAnalysisError = nil
        if analysis.corrupt {
            source.reportCorrupt()
            return
        }
        status.update { $0.detectorMs = analysis.detectTime.milliseconds }
        // "Someone is there" for the cooldown: any face at least half the check-in minimum.
        let minimumSide = Double(machine.tunables.detection.minFaceSize) / 2
        let inView = analysis.faces.contains {
            max($0.face.box.width * analysis.mapping.scaleX, $0.face.box.height * analysis.mapping.scaleY) >= minimumSide
        }
        guard machine.gate.observe(faceInView: inView, at: received) else {
            setState(.cooldown, &machine)
            return
        }
        if inView, machine.firstFaceAt == nil { machine.firstFaceAt = received }
        let decision = machine.selector.observe(
            faces: analysis.faces, frame: Captured(analysis: analysis, captureLatency: captureLatency),
            at: received, mapping: analysis.mapping)
        switch decision {
        case .idle:
            machine.firstFaceAt = nil
            setState(.idle, &machine)
        case .searching(_, let failures):
            setState(.selecting, &machine)
            if !failures.isEmpty {
                status.update { $0.stateDetail = failures.map(\.description).joined(separator: "; ") }
            }
        case .collecting:
            setState(.selecting, &machine)
        case .multipleFaces(let count):
            machine.firstFaceAt = nil
            if machine.lastRefusalSignal.map({ received - $0 >= .seconds(2) }) ?? true {
                machine.lastRefusalSignal = received
                await door.signal(.onePersonAtATime)
                logger.info("several faces in view: one person at a time", metadata: ["faces": "\(count)"])
            }
        case .giveUp(.noQualifyingFace(let failures)):
            machine.firstFaceAt = nil
            let reasons = failures.map(\.rawValue).joined(separator: ", ")
            logger.info("no usable face in time", metadata: ["reasons": "\(reasons)"])
            status.update { $0.stateDetail = "gave up: " + failures.map(\.description).joined(separator: "; ") }
            setState(.idle, &machine)
        case .submit(let candidate, let reason):
            let firstFaceAt = machine.firstFaceAt ?? candidate.time
            machine.firstFaceAt = nil
            setState(.submitting, &machine)
            await door.signal(.checking)
            let outcome = await submit(candidate, reason: reason, firstFaceAt: firstFaceAt, selectedAt: received,
                                       tunables: machine.tunables)
            machine.gate.decided(granted: outcome.granted, at: .now)
            setState(.cooldown, &machine)
        }
    }

    func submit(_ candidate: Selector.Candidate, reason: SubmitReason, firstFaceAt: ContinuousClock.Instant,
                selectedAt: ContinuousClock.Instant, tunables: Tunables) async -> Decision {
        let clock = ContinuousClock()
        let settings = tunables.pipeline
        var latencies = StageLatencies()
        latencies.capture = candidate.frame.captureLatency
        latencies.detect = candidate.frame.analysis.detectTime
        latencies.select = selectedAt - firstFaceAt
        let encodeStart = clock.now
        let jpeg: [UInt8]
        do {
            jpeg = try await analyzer.uploadJPEG(
                of: candidate.frame.analysis.frame, box: settings.sendFullFrame ? nil : candidate.faceInFrame.box,
                margin: settings.cropMargin, quality: settings.jpegQuality)
        } catch {
            logger.error("cannot encode the face for upload: \(error)")
            await door.signal(.fault)
            return Decision(granted: false, reason: .serverRejected, detail: "encode failed: \(error)", fault: true)
        }
        latencies.encode = clock.now - encodeStart
        let uploadStart = clock.now
        let outcome = await gateway.checkIn(jpeg: jpeg)
        latencies.upload = clock.now - uploadStart
        let decideStart = clock.now
        let decision = tunables.policy.decide(outcome, at: Date())
        for signal in Self.doorSignals(for: decision) { await door.signal(signal) }
        latencies.decide = clock.now - decideStart
        logger.debug("frame selected", metadata: ["select.reason": "\(reason.rawValue)",
                                                  "select.score": "\(String(format: "%.2f", candidate.face.quality.score))"])
        await recorder.record(decision, outcome: outcome, latencies: latencies, jpeg: decision.queueForLater || tunables.keepImages ? jpeg : nil,
                              conditionJSON: tunables.conditionJSON, option: tunables.option, keepImage: tunables.keepImages)
        return decision
    }

    /// What the door shows for a decision. Offline and faults keep their amber LED on after
    /// the green or red feedback, so an installer sees the terminal needs attention; the next
    /// answer from the server clears it.
    static func doorSignals(for decision: Decision) -> [DoorSignal] {
        let feedback: DoorSignal = decision.granted ? .granted(pulse: nil) : .denied(reason: decision.reason.rawValue)
        switch decision.reason {
        case .offline, .grantedOffline: return [feedback, .offline]
        case .unauthorized, .serverRejected: return [feedback, .fault]
        default: return [feedback, .idle]
        }
    }

    func setState(_ new: State, _ machine: inout Machine) {
        guard machine.state != new else { return }
        machine.state = new
        status.update {
            $0.state = new.rawValue
            if new == .idle { $0.stateDetail = nil }
        }
    }
}

/// The pipeline stopped for a reason the service manager should see.
public enum PipelineError: Error, Sendable, CustomStringConvertible {
    case sourceFailed(source: String, reason: String)

    public var description: String {
        switch self {
        case .sourceFailed(let source, let reason):
            "camera \(source) failed: \(reason); check the device with 'kioskctl camera list'"
        }
    }
}

/// The pipeline loop's proof of life, read by the watchdog service.
public final class Heartbeat: Sendable {
    private let last = Atomic<Int64>(0)

    public init() {}

    public func beat() {
        last.store(Self.nowNanoseconds(), ordering: .relaxed)
    }

    /// Time since the last beat; `nil` before the first.
    public var age: Duration? {
        let value = last.load(ordering: .relaxed)
        guard value > 0 else { return nil }
        return .nanoseconds(Self.nowNanoseconds() - value)
    }

    static func nowNanoseconds() -> Int64 {
        let now = ContinuousClock.now
        let d = now - Self.origin
        return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000 + 1
    }

    static let origin = ContinuousClock.now
}

extension Duration {
    /// Milliseconds as a floating-point number (status, journal, logs).
    public var milliseconds: Double { seconds * 1000 }
}

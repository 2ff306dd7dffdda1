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
                    machine.tunables = tunables.withLock { $0 }
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

    struct Machine {
        var tunables: Tunables
        var gate: PresenceGate
        var selection: SelectionWindow?
        var state: State = .idle
        var lastRefusalSignal: ContinuousClock.Instant?

        init(tunables: Tunables) {
            self.tunables = tunables
            gate = PresenceGate(cooldown: tunables.pipeline.cooldown, absenceToReset: tunables.pipeline.absenceToReset)
        }
    }

    /// The frames seen since a face first qualified; keeps the best.
    struct SelectionWindow {
        var firstFaceAt: ContinuousClock.Instant
        var firstQualifiedAt: ContinuousClock.Instant?
        var best: Candidate?
        var lastFailures: [QualityFailure] = []
    }

    struct Candidate {
        var analysis: FrameAnalysis
        var face: FrameAnalysis.ScoredFace
        var receivedAt: ContinuousClock.Instant
        /// From the driver's timestamp to the pipeline picking the frame up.
        var captureLatency: Duration
    }

    func handleTick(_ machine: inout Machine) async {
        let now = ContinuousClock.now
        let open = machine.gate.observe(faceInView: false, at: now)
        if open, machine.state == .cooldown { setState(.idle, &machine) }
        // A face that appeared and then vanished without a usable frame: let the window expire.
        if let window = machine.selection, now - window.firstFaceAt >= machine.tunables.pipeline.giveUpAfter {
            await finishSelection(&machine, at: now)
        }
    }

    func handle(_ frame: Frame, _ machine: inout Machine) async {
        let received = ContinuousClock.now
        let captureLatency = MonotonicTime.now().duration(since: frame.timestamp)
        let analysis: FrameAnalysis
        do {
            analysis = try await analyzer.analyze(frame)
        } catch {
            logger.error("frame analysis failed: \(error)")
            status.update { $0.state = "fault"; $0.stateDetail = "\(error)" }
            return
        }
        if analysis.corrupt {
            source.reportCorrupt()
            return
        }
        status.update { $0.detectorMs = analysis.detectTime.milliseconds }
        let settings = machine.tunables.pipeline
        let minimumFace = Double(machine.tunables.detection.minFaceSize)
        let present = analysis.faces.filter { max($0.face.box.width, $0.face.box.height) >= minimumFace / 2 }
        let gateOpen = machine.gate.observe(faceInView: !present.isEmpty, at: received)
        guard gateOpen else {
            setState(.cooldown, &machine)
            return
        }
        if machine.state == .cooldown { setState(.idle, &machine) }
        guard !present.isEmpty else {
            if machine.selection != nil, received - machine.selection!.firstFaceAt >= settings.giveUpAfter {
                await finishSelection(&machine, at: received)
            }
            return
        }
        // Several people: the configured policy decides.
        if present.count > 1, machine.tunables.detection.multipleFaces == .refuse {
            if machine.lastRefusalSignal.map({ received - $0 >= .seconds(2) }) ?? true {
                machine.lastRefusalSignal = received
                await door.signal(.onePersonAtATime)
                logger.info("several faces in view: one person at a time", metadata: ["faces": "\(present.count)"])
            }
            return
        }
        let chosen = present.max { $0.face.box.area < $1.face.box.area }!
        var window = machine.selection ?? SelectionWindow(firstFaceAt: received)
        if machine.selection == nil { setState(.selecting, &machine) }
        if chosen.quality.qualifies {
            if window.firstQualifiedAt == nil { window.firstQualifiedAt = received }
            if window.best.map({ chosen.quality.score > $0.face.quality.score }) ?? true {
                window.best = Candidate(analysis: analysis, face: chosen, receivedAt: received, captureLatency: captureLatency)
            }
        } else {
            window.lastFailures = chosen.quality.failures
        }
        machine.selection = window
        let goodEnough = chosen.quality.qualifies && chosen.quality.score >= settings.goodEnough
        let windowOver = window.firstQualifiedAt.map { received - $0 >= settings.selectionWindow } ?? false
        let gaveUp = received - window.firstFaceAt >= settings.giveUpAfter
        if goodEnough || windowOver || gaveUp {
            await finishSelection(&machine, at: received)
        }
    }

    /// Ends the selection window: submits the best candidate, or gives up with the reason.
    func finishSelection(_ machine: inout Machine, at now: ContinuousClock.Instant) async {
        guard let window = machine.selection else { return }
        machine.selection = nil
        guard let best = window.best else {
            let reasons = window.lastFailures.map(\.rawValue).joined(separator: ", ")
            logger.info("no usable face in time", metadata: ["reasons": "\(reasons.isEmpty ? "face left" : reasons)"])
            status.update { $0.stateDetail = reasons.isEmpty ? nil : "last face unusable: \(reasons)" }
            setState(.idle, &machine)
            return
        }
        setState(.submitting, &machine)
        await door.signal(.checking)
        let decision = await submit(best, firstFaceAt: window.firstFaceAt, selectedAt: now, tunables: machine.tunables)
        machine.gate.decided(granted: decision.granted, at: ContinuousClock.now)
        setState(.cooldown, &machine)
    }

    func submit(_ candidate: Candidate, firstFaceAt: ContinuousClock.Instant, selectedAt: ContinuousClock.Instant,
                tunables: Tunables) async -> Decision {
        let clock = ContinuousClock()
        let settings = tunables.pipeline
        var latencies = StageLatencies()
        latencies.capture = candidate.captureLatency
        latencies.detect = candidate.analysis.detectTime
        latencies.select = selectedAt - firstFaceAt
        let encodeStart = clock.now
        let jpeg: [UInt8]
        do {
            jpeg = try await analyzer.uploadJPEG(
                of: candidate.analysis.frame, box: settings.sendFullFrame ? nil : candidate.face.face.box,
                margin: settings.cropMargin, quality: settings.jpegQuality)
        } catch {
            logger.error("cannot encode the face for upload: \(error)")
            let decision = Decision(granted: false, reason: .serverRejected, detail: "encode failed: \(error)", fault: true)
            await door.signal(.fault)
            return decision
        }
        latencies.encode = clock.now - encodeStart
        let uploadStart = clock.now
        let outcome = await gateway.checkIn(jpeg: jpeg)
        latencies.upload = clock.now - uploadStart
        let decideStart = clock.now
        let decision = tunables.policy.decide(outcome, at: Date())
        for signal in Self.doorSignals(for: decision) { await door.signal(signal) }
        latencies.decide = clock.now - decideStart
        await recorder.record(decision, outcome: outcome, latencies: latencies, jpeg: decision.queueForLater ? jpeg : nil,
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

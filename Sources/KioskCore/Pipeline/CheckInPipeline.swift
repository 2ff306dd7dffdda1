// CheckInPipeline: frames in; decisions, door signals and journal entries out, never waiting on the server.
package import Camera
import DoorIO
import FaceDetection
import Foundation
package import Logging
import Outbox
import Synchronization

/// The check-in path: frames in; decisions, door signals and journal entries out.
///
/// One loop consumes the newest frame at a time (the source drops stale ones), so the door
/// never lags the camera. State machine (docs/ARCHITECTURE.md):
/// idle → selecting (a face qualified) → submitting → cooldown (``PresenceGate``) → idle.
///
/// The loop never waits on the server. A check-in runs as its own task and its answer comes
/// back as an input; when it has not come by `pipeline.decision_deadline`, the policy's offline
/// branch decides at once and the answer, when it comes, is a *late outcome* (journaled; a late
/// grant opens the door only while the same person is still in view, within
/// `pipeline.late_grant_window`). So the person never waits longer than the deadline, and the
/// heartbeat the watchdog reads beats on every frame and tick however slow the server is; only
/// a loop that really hangs (a frame analysis that never returns) stops it.
package final class CheckInPipeline: Sendable {
    /// What can change on SIGHUP without restarting: thresholds, timings, policy.
    package struct Tunables: Sendable {
        package var pipeline: PipelineSettings
        package var detection: DetectionSettings
        package var policy: DecisionPolicy
        package var conditionJSON: String
        package var option: Int?
        package var keepImages: Bool
        /// `door.kind: turnstile`: one grant, one person; a face that comes while the grant is
        /// open is tailgating, and no check-in starts until the grant ends.
        package var turnstile: Bool
        /// `door.direction` for the journal, when configured.
        package var direction: String?

        package init(configuration: KioskConfiguration, policy: DecisionPolicy) {
            pipeline = configuration.pipeline
            detection = configuration.detection
            self.policy = policy
            conditionJSON = configuration.checkInConditionJSON
            option = configuration.api.option
            keepImages = configuration.privacy.keepImages
            turnstile = configuration.door.kind == .turnstile
            direction = configuration.door.direction == .none ? nil : configuration.door.direction.rawValue
        }
    }

    /// The person in front of the door, as far as the pipeline is concerned.
    package enum State: String, Sendable {
        case idle, selecting, submitting, cooldown
    }

    let source: any FrameSource
    let analyzer: FrameAnalyzer
    let gateway: any CheckInGateway
    let door: any DoorSignals
    let recorder: DecisionRecorder
    let status: StatusBoard
    let heartbeat: Heartbeat
    let logger: Logger
    let tunables: Mutex<Tunables>
    let tick: Duration

    package init(
        source: any FrameSource, analyzer: FrameAnalyzer, gateway: any CheckInGateway, door: any DoorSignals,
        recorder: DecisionRecorder, status: StatusBoard, heartbeat: Heartbeat, tunables: Tunables,
        tick: Duration = .milliseconds(250), logger: Logger
    ) {
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
    package func reload(_ new: Tunables) {
        tunables.withLock { $0 = new }
        logger.notice("pipeline settings reloaded")
    }

    enum Input: Sendable {
        /// A frame is waiting in the newest-frame slot.
        case frameReady
        case tick
        case sourceEnded((any Error)?)
        /// The server's answer to check-in `id` (or the transport's failure, as an outcome).
        case answer(id: Int, outcome: CheckInOutcome)
        /// Check-in `id` reached `pipeline.decision_deadline`.
        case deadline(id: Int)
    }

    /// Work the loop hands to its task group: it never awaits the server itself.
    enum Effect: Sendable {
        case post(id: Int, request: CheckInRequest, deadline: Duration)
    }

    /// Runs until the task is cancelled (graceful shutdown) or the source ends.
    package func run() async throws {
        // Answers, deadlines and ticks must all arrive, so the stream keeps every input; frames
        // do not pile up in it: the newest waits in `slot` and replaces an older one there.
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
        let slot = NewestFrame()
        // Discarding: every check-in adds two short child tasks, whose results must not pile up
        // over weeks of running. Children never throw (a throwing child would end the group).
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { [source] in
                do {
                    for try await frame in source.frames() {
                        if slot.put(frame) { continuation.yield(.frameReady) }
                    }
                    continuation.yield(.sourceEnded(nil))
                } catch {
                    continuation.yield(.sourceEnded(error))
                }
            }
            group.addTask { [tick] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: tick)
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
                var effects: [Effect] = []
                switch input {
                case .tick:
                    handleTick(&machine)
                case .frameReady:
                    guard let frame = slot.take() else { break }
                    machine.apply(tunables.withLock { $0 })
                    effects = await handle(frame, &machine)
                case .answer(let id, let outcome):
                    await handleAnswer(id: id, outcome: outcome, &machine)
                case .deadline(let id):
                    await handleDeadline(id: id, &machine)
                case .sourceEnded(let error):
                    if let error {
                        logger.error("camera stopped: \(error)", metadata: ["camera": "\(source.name)"])
                        throw PipelineError.sourceFailed(source: source.name, reason: "\(error)")
                    }
                    logger.notice("frame source ended", metadata: ["camera": "\(source.name)"])
                    machine.sourceEnded = true
                }
                for effect in effects {
                    switch effect {
                    case .post(let id, let request, let deadline):
                        group.addTask { [gateway] in
                            continuation.yield(.answer(id: id, outcome: await gateway.checkIn(request)))
                        }
                        group.addTask {
                            do {
                                try await Task.sleep(for: deadline)
                                continuation.yield(.deadline(id: id))
                            } catch {
                                // Cancelled: the pipeline is stopping.
                            }
                        }
                    }
                }
                // A check-in in flight still gets its answer (or its deadline) before the end.
                if machine.sourceEnded, machine.inFlight.isEmpty { return }
            }
        }
    }

    /// What the pipeline has seen since a turnstile grant opened.
    struct TailgateWatch {
        /// Since when no face has been in view (nil: a face is in view, or none was yet missed).
        var emptySince: ContinuousClock.Instant?
        /// Tailgating was already reported for this grant.
        var reported = false
    }

    /// The one frame waiting for the loop: a newer one replaces it (the door never lags).
    final class NewestFrame: Sendable {
        private let frame = Mutex<Frame?>(nil)

        /// Stores `new`; true when the slot was empty (the loop must be told).
        func put(_ new: Frame) -> Bool {
            frame.withLock { slot in
                defer { slot = new }
                return slot == nil
            }
        }

        func take() -> Frame? {
            frame.withLock { slot in
                defer { slot = nil }
                return slot
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

    /// A check-in posted to the server whose answer has not come yet.
    struct InFlight: Sendable {
        var jpeg: [UInt8]
        var latencies: StageLatencies
        var postedAt: ContinuousClock.Instant
        var capturedAt: Date
        var tunables: Tunables
        /// Set when the deadline passed first: the door already decided by the offline branch.
        var decidedEarly: (decision: Decision, at: ContinuousClock.Instant)?
    }

    struct Machine {
        var tunables: Tunables
        var gate: PresenceGate
        var selector: Selector
        /// When the current person's first face was seen (for the `select` latency).
        var firstFaceAt: ContinuousClock.Instant?
        var state: State = .idle
        var lastRefusalSignal: ContinuousClock.Instant?
        var lastAnalysisError: String?
        var inFlight: [Int: InFlight] = [:]
        /// The check-in the person at the door is waiting for (not yet decided).
        var awaited: Int?
        var nextID = 1
        var sourceEnded = false
        /// When the last frame was analysed (ticks judge absence only when frames stop coming).
        var lastFrameAt: ContinuousClock.Instant?
        /// The turnstile grant being watched for a second person.
        var watch = TailgateWatch()

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

    func handleTick(_ machine: inout Machine) {
        // Frames drive the selector; ticks only let the gate reopen while the camera is quiet.
        // While frames arrive, only a frame without a face says the person left: on a slow
        // board one frame's analysis can take longer than absence_to_reset, and a tick between
        // two frames of a person standing still must not count as their absence.
        guard machine.awaited == nil else { return }
        let now = ContinuousClock.now
        if let last = machine.lastFrameAt, now - last < machine.tunables.pipeline.absenceToReset { return }
        let open = machine.gate.observe(faceInView: false, at: now)
        if open, machine.state == .cooldown { setState(.idle, &machine) }
    }

    func handle(_ frame: Frame, _ machine: inout Machine) async -> [Effect] {
        let received = ContinuousClock.now
        let captureLatency = MonotonicTime.now().duration(since: frame.timestamp)
        let analysis: FrameAnalysis
        do {
            analysis = try await analyzer.analyze(frame, idleGate: machine.tunables.idleSceneGate)
        } catch {
            // Once per distinct failure, not once per frame (30 a second); status keeps it.
            let text = "\(error)"
            if machine.lastAnalysisError != text {
                logger.error("frame analysis failed: \(text); the door cannot check anyone in until this is fixed")
                machine.lastAnalysisError = text
            }
            status.update {
                $0.state = "fault"
                $0.stateDetail = text
            }
            return []
        }
        machine.lastAnalysisError = nil
        machine.lastFrameAt = .now
        if analysis.corrupt {
            source.reportCorrupt()
            return []
        }
        if !analysis.detectionSkipped { status.update { $0.detectorMs = analysis.detectTime.milliseconds } }
        // "Someone is there" for the cooldown: any face at least half the check-in minimum.
        let minimumSide = Double(machine.tunables.detection.minFaceSize) / 2
        let facesInView = analysis.faces.count {
            max($0.face.box.width * analysis.mapping.scaleX, $0.face.box.height * analysis.mapping.scaleY) >= minimumSide
        }
        let inView = facesInView > 0
        if machine.tunables.turnstile, await door.grantOpen() {
            await watchForTailgating(faces: facesInView, at: received, &machine)
            // One grant, one person: nobody is checked in on the open grant's pulse.
            _ = machine.gate.observe(faceInView: inView, at: received)
            return []
        }
        machine.watch = TailgateWatch()
        // While the person waits for the server, frames only say whether they are still there.
        guard machine.awaited == nil else {
            _ = machine.gate.observe(faceInView: inView, at: received)
            return []
        }
        guard machine.gate.observe(faceInView: inView, at: received) else {
            setState(.cooldown, &machine)
            return []
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
            setState(.idle, &machine)
            let text = failures.map(\.description).joined(separator: "; ")
            status.update {
                $0.stateDetail = "gave up: " + text
                $0.lastGiveUp = text
            }
        case .submit(let candidate, let reason):
            let firstFaceAt = machine.firstFaceAt ?? candidate.time
            machine.firstFaceAt = nil
            setState(.submitting, &machine)
            await door.signal(.checking)
            logger.debug(
                "frame selected",
                metadata: [
                    "select.reason": "\(reason.rawValue)",
                    "select.score": "\(String(format: "%.2f", candidate.face.quality.score))",
                ])
            return await post(candidate, firstFaceAt: firstFaceAt, selectedAt: received, &machine)
        }
        return []
    }

    /// While a turnstile grant is open: two faces in view, or a face after the view was empty
    /// for `absence_to_reset` (the granted person went through, someone else came), is
    /// tailgating. Said once per grant: a signal, a log line and a journal record.
    func watchForTailgating(faces: Int, at now: ContinuousClock.Instant, _ machine: inout Machine) async {
        guard !machine.watch.reported else { return }
        if faces == 0 {
            if machine.watch.emptySince == nil { machine.watch.emptySince = now }
            return
        }
        let leftAndCame = machine.watch.emptySince.map { now - $0 >= machine.tunables.pipeline.absenceToReset } ?? false
        machine.watch.emptySince = nil
        guard faces >= 2 || leftAndCame else { return }
        machine.watch.reported = true
        let detail = "\(faces) \(faces == 1 ? "face" : "faces") in view while the turnstile grant was open"
        logger.warning("tailgating: one person at a time", metadata: ["faces": "\(faces)"])
        await door.signal(.onePersonAtATime)
        await recorder.recordDoorEvent(DoorEventRecord(kind: .tailgating, detail: detail))
        status.update { $0.stateDetail = "tailgating: " + detail }
    }

    /// Encodes the chosen face and hands the check-in to the task group.
    func post(
        _ candidate: Selector.Candidate, firstFaceAt: ContinuousClock.Instant, selectedAt: ContinuousClock.Instant,
        _ machine: inout Machine
    ) async -> [Effect] {
        let settings = machine.tunables.pipeline
        var latencies = StageLatencies()
        latencies.capture = candidate.frame.captureLatency
        latencies.detect = candidate.frame.analysis.detectTime
        latencies.select = selectedAt - firstFaceAt
        let encodeStart = ContinuousClock.now
        let jpeg: [UInt8]
        do {
            jpeg = try await analyzer.uploadJPEG(
                of: candidate.frame.analysis.frame, box: settings.sendFullFrame ? nil : candidate.faceInFrame.box,
                margin: settings.cropMargin, quality: settings.jpegQuality)
        } catch {
            logger.error("cannot encode the face for upload: \(error)")
            await door.signal(.fault)
            let decision = Decision(granted: false, reason: .serverRejected, detail: "encode failed: \(error)", fault: true)
            machine.gate.decided(granted: false, at: .now)
            setState(.cooldown, &machine)
            await recorder.record(
                decision, outcome: .rejected(status: 0, message: "\(error)"), latencies: latencies, jpeg: nil,
                conditionJSON: machine.tunables.conditionJSON, option: machine.tunables.option, keepImage: false,
                direction: machine.tunables.direction)
            return []
        }
        let now = ContinuousClock.now
        latencies.encode = now - encodeStart
        let id = machine.nextID
        machine.nextID += 1
        machine.inFlight[id] = InFlight(
            jpeg: jpeg, latencies: latencies, postedAt: now, capturedAt: Date(),
            tunables: machine.tunables)
        machine.awaited = id
        // The condition and option in force now go with the live post and with any queued copy
        // of it (both read `machine.tunables`), so a reload never splits the two.
        let request = CheckInRequest(jpeg: jpeg, conditionJSON: machine.tunables.conditionJSON, option: machine.tunables.option)
        return [.post(id: id, request: request, deadline: settings.decisionDeadline)]
    }

    /// The server answered check-in `id`: decide now, or, past the deadline, a late outcome.
    func handleAnswer(id: Int, outcome: CheckInOutcome, _ machine: inout Machine) async {
        guard var pending = machine.inFlight.removeValue(forKey: id) else { return }
        let now = ContinuousClock.now
        pending.latencies.upload = now - pending.postedAt
        if let early = pending.decidedEarly {
            await lateOutcome(pending, early: early, outcome: outcome, &machine)
            return
        }
        if machine.awaited == id { machine.awaited = nil }
        let decision = pending.tunables.policy.decide(outcome, at: Date())
        await decide(decision, outcome: outcome, pending, queueJPEG: decision.queueForLater, at: now, &machine)
    }

    /// The deadline passed with no answer: the offline branch decides, the request goes on.
    func handleDeadline(id: Int, _ machine: inout Machine) async {
        guard var pending = machine.inFlight[id], pending.decidedEarly == nil else { return }
        let deadline = pending.tunables.pipeline.decisionDeadline
        let reason = "no answer within \(Self.seconds(deadline)) (pipeline.decision_deadline); the request goes on"
        let outcome = CheckInOutcome.unreachable(reason: reason)
        let decision = pending.tunables.policy.decide(outcome, at: Date())
        let now = ContinuousClock.now
        pending.latencies.upload = now - pending.postedAt
        pending.decidedEarly = (decision, now)
        machine.inFlight[id] = pending
        if machine.awaited == id { machine.awaited = nil }
        // Not queued: the request is still in flight, and posting it again could check the
        // person in twice. It is queued only if its own answer says it never arrived.
        await decide(decision, outcome: outcome, pending, queueJPEG: false, at: now, &machine)
    }

    func decide(
        _ decision: Decision, outcome: CheckInOutcome, _ pending: InFlight, queueJPEG: Bool,
        at decidedAt: ContinuousClock.Instant, _ machine: inout Machine
    ) async {
        let decideStart = ContinuousClock.now
        await door.show(decision, signals: Self.doorSignals(for: decision))
        var latencies = pending.latencies
        latencies.decide = ContinuousClock.now - decideStart
        machine.gate.decided(granted: decision.granted, at: decidedAt)
        setState(.cooldown, &machine)
        let t = pending.tunables
        await recorder.record(
            decision, outcome: outcome, latencies: latencies,
            jpeg: queueJPEG || t.keepImages ? pending.jpeg : nil,
            conditionJSON: t.conditionJSON, option: t.option, keepImage: t.keepImages, direction: t.direction)
    }

    /// An answer after the door decided by the offline branch: journaled; a grant opens the
    /// door only for the same person still in view within the late-grant window; a transport
    /// failure (the request never got through) queues the check-in as offline ones are.
    func lateOutcome(
        _ pending: InFlight, early: (decision: Decision, at: ContinuousClock.Instant), outcome: CheckInOutcome,
        _ machine: inout Machine
    ) async {
        let t = pending.tunables
        let now = ContinuousClock.now
        let after = Self.seconds(now - pending.postedAt)
        let late = t.policy.decide(outcome, at: Date())
        switch outcome {
        case .unreachable(let reason), .untrustedServer(let reason), .unanswered(let reason):
            // The request never got through, or may have: queued as a live decision would be.
            logger.notice("the late check-in failed too (\(reason)); queued as the policy and outbox.ambiguous say")
            await recorder.queueIfDue(
                late, outcome: outcome, jpeg: pending.jpeg, conditionJSON: t.conditionJSON, option: t.option,
                capturedAt: pending.capturedAt)
            return
        default:
            break
        }
        let withinWindow = now - early.at <= t.pipeline.lateGrantWindow
        // Still the same person: the gate has not reopened since the early decision (nobody
        // left, nobody new was checked in) and a face was seen a moment ago.
        let gateStillClosed = machine.gate.state == .closed(decidedAt: early.at, granted: early.decision.granted)
        let stillInView = machine.gate.lastFaceSeen.map { now - $0 < .seconds(1) } ?? false
        let opens = late.granted && !early.decision.granted && withinWindow && gateStillClosed && stillInView
        if opens {
            await door.show(late, signals: Self.doorSignals(for: late))
            machine.gate.decided(granted: true, at: now)
            setState(.cooldown, &machine)
        }
        let effect: String
        if opens {
            effect = "the door opened late"
        } else if late.granted && !early.decision.granted {
            effect = withinWindow ? "not opened: the person is no longer in view" : "not opened: past pipeline.late_grant_window"
        } else {
            effect = "only journaled"
        }
        let summary =
            "answered after \(after), after the door had decided \(early.decision.reason.rawValue): \(late.reason.rawValue) (\(late.detail)); \(effect)"
        await recorder.recordLate(late, outcome: outcome, summary: summary, capturedAt: pending.capturedAt, doorOpened: opens)
    }

    static func seconds(_ d: Duration) -> String {
        String(format: "%.1f s", d.seconds)
    }

    /// What the door shows for a decision. Offline and faults keep their amber LED on after
    /// the green or red feedback, so an installer sees the terminal needs attention; the next
    /// answer from the server clears it.
    static func doorSignals(for decision: Decision) -> [DoorSignal] {
        let feedback: DoorSignal = decision.granted ? .granted(pulse: nil) : .denied(reason: decision.reason.rawValue)
        switch decision.reason {
        case .offline, .grantedOffline: return [feedback, .offline]
        case .unauthorized, .serverRejected, .untrustedServer, .unreadableAnswer: return [feedback, .fault]
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
package enum PipelineError: Error, Sendable, CustomStringConvertible {
    case sourceFailed(source: String, reason: String)

    package var description: String {
        switch self {
        case .sourceFailed(let source, let reason):
            "camera \(source) failed: \(reason); check the device with 'kioskctl camera list'"
        }
    }
}

/// The pipeline loop's proof of life, read by the watchdog service.
package final class Heartbeat: Sendable {
    private let last = Atomic<Int64>(0)

    package init() {}

    package func beat() {
        last.store(Self.nowNanoseconds(), ordering: .relaxed)
    }

    /// Time since the last beat; `nil` before the first.
    package var age: Duration? {
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
    package var milliseconds: Double { seconds * 1000 }
}

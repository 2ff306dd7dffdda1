// Scripted parts for the pipeline's unit tests: every one a stand-in, named so.
import Camera
import DoorIO
import FaceDetection
import Foundation
import Imaging
import Logging
import Outbox
import Synchronization
import TestSupport

@testable import KioskCore

/// Stand-in for the detector: reports whatever the scene holds, or never returns (a hung
/// analysis). A real detector is tested in FaceDetectionTests and the whole-path tests.
final class ScriptedDetector: FaceDetector {
    enum Scene: Sendable {
        case faces([DetectedFace])
        /// `detect` does not return until the task is cancelled.
        case hang
    }

    private let scene = Mutex<Scene>(.faces([]))
    private let calls = Atomic<Int>(0)
    private let delay = Mutex<Duration>(.zero)

    func show(_ new: Scene) { scene.withLock { $0 = new } }

    /// Makes every detection take this long (a slow board).
    func slow(_ duration: Duration) { delay.withLock { $0 = duration } }

    var detections: Int { calls.load(ordering: .relaxed) }

    func detect(in image: Image) async throws(FaceDetectionError) -> [DetectedFace] {
        calls.add(1, ordering: .relaxed)
        let wait = delay.withLock { $0 }
        if wait > .zero { try? await Task.sleep(for: wait) }
        switch scene.withLock({ $0 }) {
        case .faces(let faces):
            return faces
        case .hang:
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(1)) }
            return []
        }
    }

    /// A frontal face that qualifies in a `PipelineFixture.frame` (320×240): 100×120 px box,
    /// 46 px between the eyes, landmarks of a face looking at the camera.
    static func frontalFace(x: Double = 110, score: Double = 0.95) -> DetectedFace {
        DetectedFace(
            box: FaceRect(x: x, y: 60, width: 100, height: 120), score: score,
            landmarks: FaceLandmarks(
                rightEye: .init(x: x + 27, y: 105), leftEye: .init(x: x + 73, y: 105), noseTip: .init(x: x + 50, y: 130),
                mouthRight: .init(x: x + 32, y: 155), mouthLeft: .init(x: x + 68, y: 155)))
    }

    /// Too small to check in (10 px between the eyes), but large enough to count as someone there.
    static func smallFace() -> DetectedFace {
        DetectedFace(
            box: FaceRect(x: 150, y: 100, width: 24, height: 28), score: 0.9,
            landmarks: FaceLandmarks(
                rightEye: .init(x: 157, y: 110), leftEye: .init(x: 167, y: 110), noseTip: .init(x: 162, y: 116),
                mouthRight: .init(x: 158, y: 122), mouthLeft: .init(x: 166, y: 122)))
    }
}

/// Stand-in for a camera: the same frame 30 times a second until stopped.
final class ScriptedCamera: FrameSource {
    let name = "scripted camera"
    let frame: [UInt8]
    private let stats = Mutex(CaptureStatistics())

    init(frame: [UInt8]) { self.frame = frame }

    var statistics: CaptureStatistics { stats.withLock { $0 } }

    func reportCorrupt() { stats.withLock { $0.corrupt += 1 } }

    func frames() -> AsyncThrowingStream<Frame, any Error> {
        let jpeg = frame
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Frame.self, bufferingPolicy: .bufferingNewest(1))
        let pump = Task {
            var sequence: UInt64 = 0
            while !Task.isCancelled {
                sequence += 1
                continuation.yield(Frame(sequence: sequence, timestamp: .now(), width: 320, height: 240, payload: .jpeg(jpeg)))
                try? await Task.sleep(for: .milliseconds(33))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in pump.cancel() }
        return stream
    }
}

/// Stand-in for the server: answers each check-in as scripted, after an optional delay.
actor ScriptedGateway: CheckInGateway {
    struct Answer: Sendable {
        var outcome: CheckInOutcome
        var after: Duration = .zero
    }

    private var script: [Answer]
    private let fallback: Answer
    private(set) var calls = 0
    private(set) var answered = 0
    private(set) var requests: [CheckInRequest] = []

    init(_ script: [Answer] = [], otherwise fallback: Answer) {
        self.script = script
        self.fallback = fallback
    }

    func checkIn(_ request: CheckInRequest) async -> CheckInOutcome {
        calls += 1
        requests.append(request)
        let answer = script.isEmpty ? fallback : script.removeFirst()
        if answer.after > .zero { try? await Task.sleep(for: answer.after) }
        answered += 1
        return answer.outcome
    }

    func tokenExpiry() async -> Date? { nil }

    func shutdown() async {}

    static let grant = CheckInOutcome.matched(userID: 7, status: "APPROVED", similarity: 92)
}

/// Stand-in for the door: records each signal with the time it was given.
actor RecordingDoor: DoorSignals {
    private(set) var signals: [(signal: DoorSignal, at: ContinuousClock.Instant)] = []
    /// Acts as a turnstile: a grant stays open until ``passage()`` (the controller's input).
    private var turnstile = false
    private var grantIsOpen = false

    func signal(_ signal: DoorSignal) async {
        signals.append((signal, .now))
        if turnstile, case .granted = signal { grantIsOpen = true }
    }

    func grantOpen() async -> Bool { grantIsOpen }

    func actAsTurnstile() { turnstile = true }

    /// The turnstile controller reports a person through: the grant ends.
    func passage() { grantIsOpen = false }

    var kinds: [String] { signals.map { Self.kind($0.signal) } }

    var grants: Int { signals.filter { if case .granted = $0.signal { true } else { false } }.count }

    /// The first time a signal of `kind` was given, if one was.
    func first(_ kind: String) -> ContinuousClock.Instant? {
        signals.first { Self.kind($0.signal) == kind }?.at
    }

    static func kind(_ signal: DoorSignal) -> String {
        switch signal {
        case .granted: "granted"
        case .denied(let reason): "denied:\(reason)"
        case .onePersonAtATime: "one-person"
        case .checking: "checking"
        case .idle: "idle"
        case .offline: "offline"
        case .fault: "fault"
        }
    }
}

/// One pipeline with scripted parts, a real frame analyzer (TurboJPEG, the quality scorer), a
/// real decision policy and, when asked, a real journal and queue on a temporary SQLite file.
struct PipelineFixture {
    let detector = ScriptedDetector()
    let gateway: ScriptedGateway
    let door = RecordingDoor()
    let status = StatusBoard()
    let heartbeat = Heartbeat()
    let pipeline: CheckInPipeline
    /// What the pipeline started with.
    let tunables: CheckInPipeline.Tunables
    let journal: EventJournal?
    let outbox: OutboxStore?

    init(gateway: ScriptedGateway, withStore: Bool = false, configure: (inout KioskConfiguration) -> Void = { _ in }) async throws {
        var c = KioskConfiguration()
        c.pipeline.goodEnough = 0.5  // the first qualifying frame is sent at once
        c.pipeline.selectionWindow = .milliseconds(300)
        c.pipeline.giveUpAfter = .milliseconds(600)
        c.pipeline.cooldown = .seconds(30)
        // The product's default: a shorter one lets a loaded test machine, whose loop can stall
        // for a few hundred milliseconds, look like the person left.
        c.pipeline.absenceToReset = .milliseconds(1500)
        c.pipeline.decisionDeadline = .milliseconds(1500)
        c.pipeline.detectionWidth = 320
        c.detection.minFaceSize = 40
        // The scripted detector sees the scene it is told, not the pixels: the frame never
        // changes, so the idle scene gate would skip it (IdleSceneGateTests test the gate).
        c.pipeline.idleGate = false
        configure(&c)
        self.gateway = gateway
        if withStore {
            c.outbox.stateDirectory = try TestAssets.temporaryDirectory("kiosk-pipeline").path
            c.outbox.keyFile = "outbox.key"
            let database = try await OutboxDatabase.open(c.outboxConfiguration())
            journal = EventJournal(database: database)
            outbox = OutboxStore(database: database)
        } else {
            journal = nil
            outbox = nil
        }
        let logger = Logger.quiet
        let analyzer = try FrameAnalyzer(detector: detector, scorer: FaceQualityScorer(), detectionWidth: 320)
        let recorder = DecisionRecorder(journal: journal, outbox: outbox, status: status, logger: logger)
        tunables = .init(configuration: c, policy: try DecisionPolicy(settings: c.policy))
        pipeline = CheckInPipeline(
            source: ScriptedCamera(frame: try Self.frame()), analyzer: analyzer, gateway: gateway, door: door,
            recorder: recorder, status: status, heartbeat: heartbeat, tunables: tunables,
            tick: .milliseconds(50), logger: logger)
    }

    /// Runs the pipeline while `body` runs, then stops it as a graceful shutdown would and
    /// waits until it has stopped (nothing of one test may still run during the next).
    func running<T>(_ body: () async throws -> T) async throws -> T {
        try await stoppingAfter(Task { [pipeline] in try await pipeline.run() }, body)
    }

    /// A 320×240 JPEG of mid-grey noise: sharp, well exposed, no clipping, so scripted faces
    /// on it are judged on their geometry (size, pose, framing) like a real face would be.
    static func frame() throws -> [UInt8] {
        var generator = SeededGenerator(seed: 42)
        var image = Image(width: 320, height: 240, format: .rgb24, filledWith: 0)
        for index in image.pixels.indices { image.pixels[index] = UInt8.random(in: 68...188, using: &generator) }
        return try JPEGEncoder().encode(image, quality: 90)
    }
}

/// Deterministic pixels (xorshift64*), so the frame is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
}

// KioskAgent: builds every component from the configuration and runs them as one ServiceGroup, GPIO first.
package import Camera
package import DoorIO
import FaceAiDee
import FaceDetection
import Foundation
package import Logging
package import Outbox
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The daemon, assembled: builds every component from the configuration and runs them as one
/// `ServiceGroup`. `kioskd` is this plus argument parsing.
///
/// Start order matters for a door: GPIO first (so the relay is held de-energised from the
/// first moment), then the detector and camera; the server is not needed to start.
package struct KioskAgent: Sendable {
    package var configuration: KioskConfiguration
    /// Re-reads the configuration on SIGHUP (nil: reload not supported).
    package var reload: (@Sendable () async throws -> KioskConfiguration)?
    /// Replaces the frame source (tests); nil builds one from `camera.*`.
    package var frameSource: (any FrameSource)?
    /// Replaces the check-in gateway (tests); nil talks to `api.url`.
    package var gateway: (any CheckInGateway & OutboxSender)?
    /// Replaces the door backend (tests); nil uses `door.backend`.
    package var doorBackend: (any GPIOBackend)?
    package var environment: [String: String]
    package var logger: Logger

    package init(
        configuration: KioskConfiguration, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.configuration = configuration
        self.logger = logger
        self.environment = environment
    }

    /// Runs until SIGTERM/SIGINT (graceful) or a fatal error. The relay is de-energised on
    /// every way out: the door service is shut down last and also on errors.
    package func run() async throws {
        let c = configuration
        let notifier = SystemdNotifier(environment: environment)
        let status = StatusBoard()
        status.update {
            $0.server.url = c.api.url
            $0.camera.source = c.camera.source == .replay ? "replay \(c.camera.replayPath)" : c.camera.device
        }

        // 1. Door I/O: lines requested with the relay inactive before anything else happens.
        let door = DoorController(
            configuration: c.doorConfiguration, backend: doorBackend,
            logger: logger.with("component", "door"))
        do {
            try await door.start()
        } catch {
            throw StartupError(.door, error)
        }
        do {
            try await runStarted(door: door, notifier: notifier, status: status)
        } catch {
            await door.shutdown()
            throw error
        }
    }

    /// Everything after the door, in start order; each part says what it needs and throws a
    /// ``StartupError`` naming itself.
    private func runStarted(door: DoorController, notifier: SystemdNotifier, status: StatusBoard) async throws {
        let analyzer = try makeAnalyzer()
        let source = try frameSource ?? Self.makeSource(configuration.camera)
        let gateway = try makeCheckInGateway(status: status)
        let queue = await openQueue(status: status, door: door)
        let policy = try makePolicy()
        let drainer = OutboxDrainer(
            store: queue.store, sender: gateway, configuration: DrainConfiguration(ambiguous: configuration.ambiguousDeliveryPolicy),
            logger: logger.with("component", "outbox"))
        let heartbeat = Heartbeat()
        let pipeline = CheckInPipeline(
            source: announcingReadiness(source, notifier: notifier), analyzer: analyzer, gateway: gateway, door: try makeDoorSignals(door),
            recorder: makeRecorder(queue: queue, drainer: drainer, status: status), status: status,
            heartbeat: heartbeat, tunables: .init(configuration: configuration, policy: policy),
            logger: logger.with("component", "pipeline"))
        let services = makeServices(
            door: door, queue: queue, drainer: drainer, gateway: gateway, source: source, pipeline: pipeline,
            heartbeat: heartbeat, notifier: notifier, status: status)
        try await run(services, notifier: notifier)
    }

    /// The journal and the queue, always there: while their storage does not work, writes fail
    /// and `health` says so (the door keeps working, loudly).
    struct QueueParts {
        let journal: EventJournal
        let store: OutboxStore
        /// Says when they stop or start taking writes (log, status, fault LED).
        let health: QueueHealth
    }

    /// 2. The detector and the per-frame work (a missing model names the file and the setup step).
    /// `kioskctl aim` builds its analyzer here too, so it sees what kioskd sees.
    package func makeAnalyzer() throws(StartupError) -> FrameAnalyzer {
        let detector: YuNetFaceDetector
        do {
            // The thresholds were measured on the shipped model: another file is refused, by sha256.
            try YuNetModelIntegrity.verify(at: configuration.detection.model)
            detector = try YuNetFaceDetector(configuration: configuration.detectorConfiguration)
        } catch {
            throw StartupError(.detector, setting: "detection.model", error)
        }
        do {
            return try FrameAnalyzer(
                detector: detector, scorer: FaceQualityScorer(), detectionWidth: configuration.pipeline.detectionWidth)
        } catch {
            throw StartupError(.detector, error)
        }
    }

    /// 4. The server: credentials now (a bad file is a configuration error), calls later; an
    /// insecure URL is said at start and in status.
    func makeCheckInGateway(status: StatusBoard) throws -> any CheckInGateway & OutboxSender {
        if let warning = configuration.insecureTransportWarning {
            logger.warning("INSECURE API CONNECTION: \(warning)", metadata: ["api.url": "\(configuration.api.url)"])
            status.update { $0.insecureTransport = warning }
        }
        return try gateway ?? makeGateway()
    }

    /// 5. Queue and journal: the door keeps working without them, loudly.
    /// A state directory that cannot be opened (missing, read-only, failing card) is a degraded
    /// start, never an exit (an exit would only loop through systemd's restarts): the database
    /// opens by itself once the directory works (the drainer's recheck, or the next check-in).
    func openQueue(status: StatusBoard, door: DoorController) async -> QueueParts {
        let health = QueueHealth(status: status, door: door, logger: logger.with("component", "outbox"))
        let database = await OutboxDatabase.openRetrying(configuration.outboxConfiguration())
        if let recovered = database.recoveredCorruption {
            logger.error("the queue database was corrupt and has been moved aside: \(recovered)")
        }
        if let reason = database.degradedReason {
            status.update { $0.queue.lastError = reason }
            await health.report(unavailable: reason)
        }
        return QueueParts(journal: EventJournal(database: database), store: OutboxStore(database: database), health: health)
    }

    func makePolicy() throws(StartupError) -> DecisionPolicy {
        do {
            return try DecisionPolicy(settings: configuration.policy)
        } catch {
            throw StartupError(.policy, setting: "policy.schedule", error)
        }
    }

    func makeRecorder(queue: QueueParts, drainer: OutboxDrainer, status: StatusBoard) -> DecisionRecorder {
        let privacy = configuration.privacy
        return DecisionRecorder(
            journal: queue.journal, outbox: queue.store, status: status, logger: logger.with("component", "decision"),
            imageKeeper: privacy.keepImages
                ? ImageKeeper(
                    directory: privacy.keepImagesDirectory, maxAge: privacy.keepImagesMaxAge, maxCount: privacy.keepImagesMaxCount)
                : nil,
            queued: { Task { await drainer.nudge() } }, ambiguous: configuration.ambiguousDeliveryPolicy)
    }

    /// The frame source, telling systemd READY=1 on its first frame: the first frame proves
    /// the camera, after GPIO and the detector are up.
    func announcingReadiness(_ source: any FrameSource, notifier: SystemdNotifier) -> any FrameSource {
        let logger = self.logger
        return TappedFrameSource(
            source,
            onFrame: { [ready = Atomic<Bool>(false)] _ in
                guard !ready.exchange(true, ordering: .relaxed) else { return }
                notifier.ready(status: "camera delivering frames; ready at the door")
                logger.notice("ready: door I/O, detector and camera are up", metadata: ["camera": "\(source.name)"])
            })
    }

    /// The services in start order. The door is first (so last to stop: relay de-energised on
    /// every way out); the pipeline is last (so first to stop: the person in progress is
    /// finished, then everything else winds down).
    func makeServices(
        door: DoorController, queue: QueueParts, drainer: OutboxDrainer, gateway: any CheckInGateway,
        source: any FrameSource, pipeline: CheckInPipeline, heartbeat: Heartbeat, notifier: SystemdNotifier,
        status: StatusBoard
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let c = configuration
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: DoorService(door: door, journal: queue.journal, status: status, logger: logger.with("component", "door"))),
            .init(service: TokenService(gateway: gateway, status: status)),
        ]
        if let osdp = pipeline.door as? OSDPDoor {
            // Second to start, second to last to stop: the panel link outlives the pipeline.
            services.append(.init(service: OSDPLinkService(door: osdp, journal: queue.journal, status: status)))
        }
        services.append(
            .init(
                service: DrainerService(
                    drainer: drainer, store: queue.store, status: status, health: queue.health,
                    logger: logger.with("component", "outbox"))))
        services += [
            .init(
                service: StatusService(
                    board: status,
                    writer: StatusFileWriter(statusPath: c.status.file, metricsPath: c.status.metricsFile, group: c.status.group),
                    notifier: notifier, interval: c.status.interval,
                    camera: { Self.cameraStatus(source) }, logger: logger.with("component", "status"))),
            .init(service: WatchdogService(notifier: notifier, heartbeat: heartbeat, logger: logger.with("component", "watchdog"))),
            .init(
                service: ReloadService(
                    pipeline: pipeline, reload: reload, notifier: notifier, logger: logger.with("component", "reload"),
                    panel: pipeline.door as? PanelDoor, osdp: pipeline.door as? OSDPDoor),
                successTerminationBehavior: .ignore),
            .init(
                service: PipelineService(pipeline: pipeline, notifier: notifier, stopBound: Self.gracefulStop + Self.cancellationStop),
                successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        return services
    }

    /// How long the services may take to stop by themselves (the person in progress finished).
    static let gracefulStop: Duration = .seconds(5)
    /// Then, how long cancelled services may take. ServiceGroup ends the process with a fatal
    /// error past it, so it covers one frame's analysis on a slow board (which cannot be
    /// interrupted): 4 s per frame was seen under emulation, where 2 s crashed the stop.
    static let cancellationStop: Duration = .seconds(8)

    /// Runs the services as one group until a signal or an error; a bounded stop, inside the
    /// unit's 15 s (`TimeoutStopSec=`): finish the person in progress, then cancel.
    func run(_ services: [ServiceGroupConfiguration.ServiceConfiguration], notifier: SystemdNotifier) async throws {
        var groupConfiguration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
            logger: logger.with("component", "services"))
        groupConfiguration.maximumGracefulShutdownDuration = Self.gracefulStop
        groupConfiguration.maximumCancellationDuration = Self.cancellationStop
        let group = ServiceGroup(configuration: groupConfiguration)
        notifier.status("starting: waiting for the first camera frame")
        do {
            try await group.run()
        } catch {
            notifier.stopping(status: "stopping after an error: \(error)")
            throw error
        }
        notifier.stopping(status: "stopped; relay de-energised")
    }

    /// The frame source `camera.*` describes (also `kioskctl aim`'s).
    package static func makeSource(_ camera: CameraSettings) throws -> any FrameSource {
        switch camera.source {
        case .v4l2:
            var config = KioskConfiguration()
            config.camera = camera
            return V4L2Camera(configuration: config.cameraConfiguration)
        case .replay:
            let path = camera.replayPath
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw StartupError(.camera, setting: "camera.replay.path", StartupProblem(description: "\(path) does not exist"))
            }
            let input: ReplaySource.Input
            if isDirectory.boolValue {
                input = .folder(path)
            } else if path.hasSuffix(".mjpeg") || path.hasSuffix(".mjpg") {
                input = .mjpegFile(path)
            } else {
                input = .script(path)
            }
            do {
                return try ReplaySource(input, framesPerSecond: Double(camera.replayFPS), loop: camera.replayLoop)
            } catch {
                throw StartupError(.camera, setting: "camera.replay.path", error)
            }
        }
    }

    func makeGateway() throws -> FaceAiDeeGateway {
        let c = configuration
        let path = KioskConfiguration.resolveSecretPath(c.api.credentialsFile, environment: environment)
        let credentials: APICredentials
        do {
            credentials = try APICredentials.load(from: path)
        } catch {
            throw StartupError(.credentials, setting: "api.credentials_file", error)
        }
        do {
            let client = try FaceAiDeeClient(configuration: c.apiClientConfiguration, credentials: credentials)
            return FaceAiDeeGateway(
                client: client, projectID: c.api.projectID,
                condition: try FaceAiDeeGateway.condition(fromJSON: c.api.conditionJSON),
                option: c.api.option)
        } catch let error as FaceAiDeeError {
            throw StartupError(.apiClient, setting: "api.url", error)
        } catch {
            throw StartupError(.apiClient, setting: "api.condition", error)
        }
    }

    static func cameraStatus(_ source: any FrameSource) -> StatusSnapshot.CameraStatus {
        let s = source.statistics
        var c = StatusSnapshot.CameraStatus()
        c.source = source.name
        c.fps = s.framesPerSecond
        c.framesCaptured = Int(s.captured)
        c.framesDropped = Int(s.dropped)
        c.framesCorrupt = Int(s.corrupt)
        c.connected = s.lastFrameAt.map { MonotonicTime.now().duration(since: $0) < .seconds(3) } ?? false
        return c
    }
}

/// SIGHUP: re-read the configuration and apply what can change safely.
struct ReloadService: Service {
    let pipeline: CheckInPipeline
    let reload: (@Sendable () async throws -> KioskConfiguration)?
    let notifier: SystemdNotifier
    let logger: Logger
    /// Re-reads the panel's lookup file (`door.mode: wiegand`).
    var panel: PanelDoor? = nil
    /// Re-reads the panel's lookup file (`door.mode: osdp`).
    var osdp: OSDPDoor? = nil

    func run() async throws {
        guard let reload else { return }
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                notifier.reloading()
                do {
                    let fresh = try await reload()
                    let policy = try DecisionPolicy(settings: fresh.policy)
                    pipeline.reload(.init(configuration: fresh, policy: policy))
                    try panel?.reload(fresh.panel)
                    try osdp?.reload(fresh.panel)
                    logger.notice(
                        "configuration reloaded: thresholds, timings and policy apply now; camera, door, API and queue settings need a restart"
                    )
                } catch {
                    logger.error("configuration not reloaded, keeping the running one: \(error)")
                }
                notifier.ready(status: "configuration reloaded")
            }
        }
    }
}

extension Logger {
    /// A copy with one more metadata key (components get their logger from the executable).
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}

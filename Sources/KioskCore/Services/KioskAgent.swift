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

    private func runStarted(door: DoorController, notifier: SystemdNotifier, status: StatusBoard) async throws {
        let c = configuration
        // 2. Detector (a missing model names the file and the setup step).
        let detector: YuNetFaceDetector
        do {
            detector = try YuNetFaceDetector(configuration: c.detectorConfiguration)
        } catch {
            throw StartupError(.detector, setting: "detection.model", error)
        }
        let analyzer: FrameAnalyzer
        do {
            analyzer = try FrameAnalyzer(detector: detector, scorer: FaceQualityScorer(), detectionWidth: c.pipeline.detectionWidth)
        } catch {
            throw StartupError(.detector, error)
        }

        // 3. Frames.
        let source: any FrameSource
        if let frameSource {
            source = frameSource
        } else {
            source = try Self.makeSource(c.camera)
        }

        // 4. The server: credentials now (a bad file is a configuration error), calls later.
        if let warning = c.insecureTransportWarning {
            logger.warning("INSECURE API CONNECTION: \(warning)", metadata: ["api.url": "\(c.api.url)"])
            status.update { $0.insecureTransport = warning }
        }
        let gateway: any CheckInGateway & OutboxSender
        if let injected = self.gateway {
            gateway = injected
        } else {
            gateway = try makeGateway()
        }

        // 5. Queue and journal: the door keeps working without them, loudly.
        var journal: EventJournal?
        var store: OutboxStore?
        do {
            let database = try await OutboxDatabase.open(c.outboxConfiguration())
            if let recovered = database.recoveredCorruption {
                logger.error("the queue database was corrupt and has been moved aside: \(recovered)")
            }
            journal = EventJournal(database: database)
            store = OutboxStore(database: database)
        } catch {
            logger.error("offline queue and journal unavailable, decisions will not be queued or journaled: \(error)")
            status.update { $0.queue.lastError = "\(error)" }
        }

        let heartbeat = Heartbeat()
        let drainer = store.map {
            OutboxDrainer(
                store: $0, sender: gateway, configuration: DrainConfiguration(ambiguous: c.ambiguousDeliveryPolicy),
                logger: logger.with("component", "outbox"))
        }
        let recorder = DecisionRecorder(
            journal: journal, outbox: store, status: status, logger: logger.with("component", "decision"),
            imageKeeper: c.privacy.keepImages
                ? ImageKeeper(
                    directory: c.privacy.keepImagesDirectory, maxAge: c.privacy.keepImagesMaxAge,
                    maxCount: c.privacy.keepImagesMaxCount) : nil,
            queued: { if let drainer { Task { await drainer.nudge() } } }, ambiguous: c.ambiguousDeliveryPolicy)
        let policy: DecisionPolicy
        do {
            policy = try DecisionPolicy(settings: c.policy)
        } catch {
            throw StartupError(.policy, setting: "policy.schedule", error)
        }
        let pipeline = CheckInPipeline(
            source: TappedFrameSource(
                source,
                onFrame: { [ready = Atomic<Bool>(false)] _ in
                    // The first frame proves the camera: tell systemd once.
                    guard !ready.exchange(true, ordering: .relaxed) else { return }
                    notifier.ready(status: "camera delivering frames; ready at the door")
                    logger.notice("ready: door I/O, detector and camera are up", metadata: ["camera": "\(source.name)"])
                }),
            analyzer: analyzer, gateway: gateway, door: door, recorder: recorder, status: status,
            heartbeat: heartbeat, tunables: .init(configuration: c, policy: policy),
            logger: logger.with("component", "pipeline"))

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: DoorService(door: door, journal: journal, status: status, logger: logger.with("component", "door"))),
            .init(service: TokenService(gateway: gateway, status: status)),
        ]
        if let drainer, let store {
            services.append(
                .init(
                    service: DrainerService(
                        drainer: drainer, store: store, status: status,
                        logger: logger.with("component", "outbox"))))
        }
        services += [
            .init(
                service: StatusService(
                    board: status,
                    writer: StatusFileWriter(
                        statusPath: c.status.file, metricsPath: c.status.metricsFile,
                        group: c.status.group),
                    notifier: notifier, interval: c.status.interval,
                    camera: { Self.cameraStatus(source) }, logger: logger.with("component", "status"))),
            .init(service: WatchdogService(notifier: notifier, heartbeat: heartbeat, logger: logger.with("component", "watchdog"))),
            .init(
                service: ReloadService(pipeline: pipeline, reload: reload, notifier: notifier, logger: logger.with("component", "reload")),
                successTerminationBehavior: .ignore),
            // Last in the list, so the first to stop: the person in progress is finished, then
            // everything else winds down, the door last.
            .init(service: PipelineService(pipeline: pipeline), successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
            logger: logger.with("component", "services"))
        // Bounded stop, well inside the unit's 15 s: finish the person in progress, then cancel.
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(5)
        groupConfiguration.maximumCancellationDuration = .seconds(2)
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

    static func makeSource(_ camera: CameraSettings) throws -> any FrameSource {
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

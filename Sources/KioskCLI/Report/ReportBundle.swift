// ReportBundle: gathers the support bundle's files (configuration redacted, doctor, status,
// journal events, unit log, versions, devices) and packs them as a private .tar.gz.
import Camera
import DoorIO
import FaceAiDee
import Foundation
import KioskCore
import Outbox

/// The support bundle: text files only, every one passed through ``SecretRedactor``.
/// Never an image (saved faces, queued payloads), a token, a key or a secret.
struct ReportBundle: Sendable {
    /// Journal events included.
    static let eventLimit = 500
    /// Lines of the unit's system journal included.
    static let unitLogLines = 300

    var configFile: String
    var environment: [String: String]
    var unit: InstalledUnit
    /// The doctor's run (reused, not repeated, when the caller already has one).
    var doctor: DoctorReport?

    /// Every file of the bundle, name → text, already redacted.
    func files() async -> [String: String] {
        var raw: [String: String] = [:]
        let loaded = try? await ConfigurationLoader(file: configFile, environment: environment).load()
        raw["config.yaml"] =
            (try? String(contentsOfFile: configFile, encoding: .utf8)) ?? "# \(configFile) could not be read\n"
        raw["environment.txt"] =
            environment.filter { $0.key.hasPrefix("KIOSK_") || $0.key == "CREDENTIALS_DIRECTORY" }
            .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") + "\n"

        let doctor: DoctorReport
        if let given = self.doctor {
            doctor = given
        } else {
            doctor = await DoctorRunner.run(configFile: configFile, environment: environment, pulseRelay: false, unit: unit)
        }
        raw["doctor.json"] = (try? doctor.json()) ?? "{}"
        raw["doctor.txt"] = doctor.text()

        let statusFile = loaded?.status.file ?? StatusSettings().file
        raw["status.json"] =
            (try? String(contentsOfFile: statusFile, encoding: .utf8)) ?? "{\"error\": \"cannot read \(statusFile): is kioskd running?\"}"

        let stateDirectory = loaded?.outbox.stateDirectory ?? OutboxConfiguration.defaultStateDirectory
        raw["events.json"] = await Self.events(stateDirectory: stateDirectory)
        raw["unit-journal.txt"] = await Self.unitJournal()
        raw["versions.txt"] = await Self.versions()
        raw["system.txt"] = await Self.system()
        raw["README.txt"] = Self.readme

        let redactor = Self.redactor(configuration: loaded, environment: environment, unit: unit)
        return raw.mapValues { redactor.redact($0) }
    }

    /// The secrets this machine holds that the bundle must not contain, read where kioskd reads them.
    static func redactor(configuration: KioskConfiguration?, environment: [String: String], unit: InstalledUnit) -> SecretRedactor {
        var redactor = SecretRedactor()
        guard let configuration else { return redactor }
        let context = DoctorContext(
            configFile: "", configuration: configuration, environment: environment, pulseRelay: false, kioskdPIDs: [], unit: unit)
        let credentials = SecretFileCheck.locate(configuration.api.credentialsFile, fallbackDirectory: nil, context: context)
        if let text = try? String(contentsOfFile: credentials.path, encoding: .utf8) {
            if let parsed = try? APICredentials.parse(text, path: credentials.path) {
                redactor.add(parsed.key)
                redactor.add(parsed.secret)
            }
        }
        let key = SecretFileCheck.locate(
            configuration.outbox.keyFile, fallbackDirectory: configuration.outbox.stateDirectory, context: context)
        if let data = FileManager.default.contents(atPath: key.path) {
            redactor.add(bytes: [UInt8](data))
            if let text = String(data: data, encoding: .utf8) { redactor.add(text) }
        }
        for (name, value) in environment where name.hasPrefix("KIOSK_") && SecretRedactor.isSecretKey(name) {
            redactor.add(value)
        }
        return redactor
    }

    /// The last journal events as JSON, as `kioskctl events --json` prints them.
    static func events(stateDirectory: String) async -> String {
        do {
            let database = try await OutboxDatabase.open(
                OutboxConfiguration(
                    stateDirectory: stateDirectory, key: OutboxKeySource.none, createIfMissing: false, recoverCorruption: false))
            defer { database.close() }
            let entries = try await EventJournal(database: database).entries(since: nil, limit: eventLimit, kinds: nil)
            return (try? CLIFormat.json(entries.map(JSONEntry.init))) ?? "[]"
        } catch {
            let message = error.description.replacingOccurrences(of: "\"", with: "'")
            return "{\"error\": \"cannot read the journal in \(stateDirectory): \(message)\"}"
        }
    }

    static func unitJournal() async -> String {
        guard let journalctl = CommandRunner.find(SystemdCheck.journalctlPaths) else { return "journalctl is not installed\n" }
        guard
            let output = await CommandRunner.run(
                journalctl, ["-u", InstalledUnit.name, "-n", "\(unitLogLines)", "--no-pager", "-o", "short-iso"], within: .seconds(5))
        else { return "journalctl could not be run\n" }
        return output.stdout + (output.stderr.isEmpty ? "" : "\n[stderr]\n" + output.stderr)
    }

    /// The agent's, Swift's and each system library's version (what `kioskd --version` prints),
    /// and the Debian packages they came from.
    static func versions() async -> String {
        var text = KioskVersion.report(program: "kioskctl")
        if !text.hasSuffix("\n") { text += "\n" }
        let packages = [
            "kiosk-agent", "libcurl4", "libgpiod2", "libturbojpeg0", "libsqlite3-0", "libopencv-dnn406", "libopencv-core406",
            "libv4l-0", "libdlib19.1",
        ]
        if let dpkg = CommandRunner.find(["/usr/bin/dpkg-query"]),
            let output = await CommandRunner.run(dpkg, ["-W", "-f", "${Package} ${Version}\\n"] + packages, within: .seconds(3))
        {
            text += "packages (dpkg):\n" + output.stdout.split(separator: "\n").map { "  \($0)\n" }.joined()
        }
        return text
    }

    /// Kernel, and the camera and GPIO devices present.
    static func system() async -> String {
        var lines = ["os: \(ProcessInfo.processInfo.operatingSystemVersionString)"]
        if let uname = CommandRunner.find(["/usr/bin/uname", "/bin/uname"]),
            let output = await CommandRunner.run(uname, ["-a"], within: .seconds(2))
        {
            lines.append("uname -a: \(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let dev = (try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []
        let nodes = dev.filter { $0.hasPrefix("video") || $0.hasPrefix("gpiochip") }.sorted().map { "/dev/\($0)" }
        lines.append("device nodes: \(nodes.isEmpty ? "none" : nodes.joined(separator: " "))")
        let cameras = await Bounded.blocking("report-cameras", within: .seconds(3)) {
            V4L2Camera.listDevices().map { "\($0.info.node) \($0.info.card) [\($0.info.driver), \($0.info.busInfo)]" }
        }
        lines.append("cameras:")
        lines += (cameras ?? ["(listing took over 3 s)"]).map { "  \($0)" }
        let chips = await Bounded.blocking("report-gpio", within: .seconds(3)) {
            GPIOInventory.chips().map { chip in
                "\(chip.name) [\(chip.label)] \(chip.lines.count) lines; held: "
                    + chip.lines.compactMap { line in line.consumer.map { "\(line.offset)=\($0)" } }.joined(separator: ", ")
            }
        }
        lines.append("gpio chips:")
        lines += (chips ?? ["(listing took over 3 s)"]).map { "  \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    static let readme = """
        kiosk-agent support bundle (kioskctl report)

        config.yaml       the configuration file, secret values redacted
        environment.txt   KIOSK_* variables, secret values redacted
        doctor.json/.txt  kioskctl doctor's checks
        status.json       kioskd's status file
        events.json       the last \(eventLimit) journal events (kioskctl events)
        unit-journal.txt  the last \(unitLogLines) lines of journalctl -u kioskd
        versions.txt      agent, Swift and system library versions
        system.txt        kernel, cameras and GPIO chips

        Never included: images, the API key and secret, tokens, the outbox key. Every file
        was scanned for the secrets on this machine and for secret-looking values.

        """

    /// Packs `files` into a gzip-compressed tar at `path`, created mode 0600 (refused when the
    /// file exists unless `force`).
    static func write(_ files: [String: String], to path: String, force: Bool) throws(ReportError) {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("kiosk-report-\(UUID().uuidString)")
        let folder = staging.appendingPathComponent("kiosk-report")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: staging.path)
            for (name, text) in files {
                let file = folder.appendingPathComponent(name).path
                guard FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw ReportError.staging("cannot write \(file)")
                }
            }
        } catch let error as ReportError {
            try? FileManager.default.removeItem(at: staging)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw .staging("\(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: staging) }

        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw .exists(path) }
            throw .output(path, String(cString: strerror(code)))
        }
        // An existing file (with --force) keeps its inode: make sure it is private too.
        fchmod(fd, 0o600)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard let tar = CommandRunner.find(["/usr/bin/tar", "/bin/tar"]) else { throw .output(path, "tar is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tar)
        process.arguments = ["-czf", "-", "-C", staging.path, "kiosk-report"]
        process.standardOutput = handle
        let errors = Pipe()
        process.standardError = errors
        do { try process.run() } catch { throw .output(path, "cannot run tar: \(error.localizedDescription)") }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw .output(path, "tar failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}

/// Why the bundle could not be written.
enum ReportError: Error, CustomStringConvertible {
    case exists(String)
    case output(String, String)
    case staging(String)

    var description: String {
        switch self {
        case .exists(let path): "\(path) exists; give --force to replace it, or another --out"
        case .output(let path, let reason): "cannot write \(path): \(reason); check the folder exists and is writable"
        case .staging(let reason): "cannot prepare the bundle in the temporary folder: \(reason)"
        }
    }
}

// TLS test helpers: test-time certificates made with openssl, and an openssl s_server on 127.0.0.1.
import Foundation

/// Certificates made at test time with the `openssl` command line: a test CA, and leaf
/// certificates for 127.0.0.1 that are good, for the wrong host, expired, or self-signed.
public struct TestCertificates: Sendable {
    public let directory: URL
    /// The test CA's certificate (what `api.ca_file` would name).
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }

    /// A leaf certificate kind and its files.
    public enum Leaf: String, Sendable, CaseIterable {
        /// Signed by the test CA, SAN IP:127.0.0.1, valid now.
        case good
        /// Signed by the test CA, valid now, but for other names (SAN DNS:door.example, IP:10.9.9.9).
        case wrongHost = "wrong-host"
        /// Signed by the test CA for 127.0.0.1, valid only in January 2020.
        case expired
        /// Signed by itself for 127.0.0.1.
        case selfSigned = "self-signed"
    }

    public func certificate(_ leaf: Leaf) -> String { directory.appendingPathComponent("\(leaf.rawValue).pem").path }
    public func key(_ leaf: Leaf) -> String { directory.appendingPathComponent("\(leaf.rawValue).key").path }

    /// Makes the CA and the four leaves in a new temporary directory.
    public static func make() throws -> TestCertificates {
        let directory = try TestAssets.temporaryDirectory("kiosk-tls")
        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: directory.appendingPathComponent(name))
        }
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("ca.key"), "-out", file("ca.pem"),
            "-days", "2", "-subj", "/CN=kiosk-agent test CA",
        ])
        try write("local.ext", "subjectAltName=IP:127.0.0.1\n")
        try write("other.ext", "subjectAltName=DNS:door.example,IP:10.9.9.9\n")
        for leaf in [Leaf.good, .wrongHost, .expired] {
            try openssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("\(leaf.rawValue).key"),
                "-out", file("\(leaf.rawValue).csr"), "-subj", "/CN=\(leaf.rawValue)",
            ])
        }
        try openssl([
            "x509", "-req", "-in", file("good.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", file("local.ext"), "-out", file("good.pem"),
        ])
        try openssl([
            "x509", "-req", "-in", file("wrong-host.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", file("other.ext"), "-out", file("wrong-host.pem"),
        ])
        // OpenSSL 3.0's `x509 -req` cannot set a start date; `openssl ca` can (-startdate/-enddate).
        try write("index.txt", "")
        try write("serial", "1000\n")
        try write(
            "ca.cnf",
            """
            [ca]
            default_ca = test
            [test]
            database = \(file("index.txt"))
            new_certs_dir = \(directory.path)
            serial = \(file("serial"))
            default_md = sha256
            policy = any
            unique_subject = no
            [any]
            commonName = supplied
            """)
        try openssl([
            "ca", "-batch", "-notext", "-config", file("ca.cnf"), "-cert", file("ca.pem"), "-keyfile", file("ca.key"),
            "-in", file("expired.csr"), "-out", file("expired.pem"), "-extfile", file("local.ext"),
            "-startdate", "20200101000000Z", "-enddate", "20200131000000Z",
        ])
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("self-signed.key"),
            "-out", file("self-signed.pem"), "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        return TestCertificates(directory: directory)
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TLSTestServerError(
                "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}

/// A TLS test server: `openssl s_server -WWW` on 127.0.0.1 (never another address), serving the
/// files of a directory over HTTPS with the given certificate. Enough for a handshake and a GET;
/// it is not an API server.
public final class OpenSSLTestServer: Sendable {
    public let port: Int
    public let root: URL
    private let process: Process

    public var url: String { "https://127.0.0.1:\(port)" }

    /// Starts `openssl s_server` and waits until it accepts connections.
    public static func start(certificate: String, key: String, port: Int, files: [String: String] = [:]) async throws -> OpenSSLTestServer {
        let root = try TestAssets.temporaryDirectory("kiosk-tls-www")
        for (name, text) in files { try Data(text.utf8).write(to: root.appendingPathComponent(name)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-WWW", "-quiet"]
        process.currentDirectoryURL = root
        process.standardInput = Pipe()  // s_server reads commands from stdin: keep it open, empty
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = OpenSSLTestServer(port: port, root: root, process: process)
        for _ in 0..<100 {
            if Self.accepts(port) { return server }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        throw TLSTestServerError("openssl s_server did not listen on 127.0.0.1:\(port) within 5 s")
    }

    private init(port: Int, root: URL, process: Process) {
        self.port = port
        self.root = root
        self.process = process
    }

    public func stop() {
        // SIGKILL, not terminate(): the child inherits the test process's blocked signal mask
        // (SIGTERM is blocked there), so SIGTERM would never arrive and the wait would hang.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: root)
    }

    /// True when something accepts a TCP connection on 127.0.0.1:`port`.
    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

public struct TLSTestServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

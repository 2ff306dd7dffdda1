// Test helpers: start a simulator over loopback and talk raw HTTP to it (raw, so tests can send
// malformed bodies the generated client never would).
import AiDeeSimulator
import Foundation
import SimulatorTestSupport
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Models and face images are present (the asset step ran).
let assetsAvailable = TestAssets.faceMatchingAvailable

/// A running simulator plus a few HTTP helpers.
struct Sim {
    let server: AiDeeSimulatorServer
    let base: String

    static let password = "pw"

    /// Runs `body` with a simulator of the three-account site (`kiosk`, `viewer` without keys,
    /// `other`; project 1 `HQ` for everyone, project 2 `Lab` for `other` only), stopped at the end.
    static func with<T>(
        dataDirectory: URL? = nil, tokenTTL: TimeInterval = 3600, maxBodyBytes: Int = 10 * 1024 * 1024,
        faults: [FaultRule] = [], _ body: (Sim) async throws -> T
    ) async throws -> T {
        let configuration = SimulatorConfiguration.threeAccountSite(
            dataDirectory: dataDirectory, tokenTTL: tokenTTL, maxBodyBytes: maxBodyBytes, faults: faults, faultSeed: 42)
        return try await withSimulator(configuration) { server in
            try await body(Sim(server: server, base: "http://127.0.0.1:\(server.port)"))
        }
    }

    struct Reply {
        let status: Int
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var array: [[String: Any]] { (try? JSONSerialization.jsonObject(with: body)) as? [[String: Any]] ?? [] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// One request; `body` is sent as-is (JSON objects are serialised first).
    func call(
        _ method: String, _ path: String, token: String? = nil, json: Any? = nil, raw: Data? = nil,
        timeout: TimeInterval = 30
    ) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        if let token { request.setValue(token, forHTTPHeaderField: "X-API-Token") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let raw {
            request.httpBody = raw
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data)
    }

    /// A token for `username` through the real key and token endpoints.
    func token(_ username: String = "kiosk") async throws -> String {
        let key = try await call("POST", "/api/v1/auth/key", json: ["username": username, "password": Self.password]).json
        let token = try await call("POST", "/api/v1/auth/token", json: ["key": key["key"] ?? "", "secret": key["secret"] ?? ""]).json
        return token["token"] as? String ?? ""
    }
}

/// Face-set images by path in ground_truth.json.
enum Faces {
    static func bytes(_ relative: String) throws -> [UInt8] {
        try TestAssets.faceImageBytes("images/" + relative)
    }
    static func base64(_ relative: String) throws -> String { Data(try bytes(relative)).base64EncodedString() }

    /// Images of one person (Barack Obama) in the public set.
    static let obama = [
        "facerec/obama.jpg", "facerec/obama2.jpg", "facerec/obama3.jpg", "facerec/32bit.png",
        "facerec/obama_partial_face.jpg", "facerec/obama_partial_face2.jpg",
    ]
    /// Other people.
    static let others = ["facerec/biden.jpg", "mpl/grace_hopper.jpg", "skimage/astronaut.png", "skimage/camera.png"]
    /// An image with no face.
    static let noFace = "ocvdoc/fruits.jpg"
}

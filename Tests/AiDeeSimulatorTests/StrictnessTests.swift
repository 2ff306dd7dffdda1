// aidee-sim refuses what a real Face AiDee server refuses (what schemathesis's full set of checks
// found): no token is 401, an undeclared method is 405 with Allow, a declared field sent as null
// is 400, an image that is not strict base64 is 400, an id wider than 64 bits is 400. All through
// real HTTP on loopback.
import AiDeeAPI
import AiDeeSimulator
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("aidee-sim is as strict as a real server", .enabled(if: assetsAvailable, "needs the models: run scripts/fetch-assets.sh"))
struct StrictnessTests {
    /// Every operation that takes `X-API-Token`, with a body where it has one.
    static var tokenOperations: [(method: String, path: String, body: Any?)] {
        [
            ("PATCH", "/api/v1/auth/token", nil), ("DELETE", "/api/v1/auth/token", nil), ("GET", "/api/v1/projects", nil),
            ("POST", "/api/v1/projects/1/users", [String: Any]()), ("PATCH", "/api/v1/projects/1/users/1", ["group_id": 2]),
            ("DELETE", "/api/v1/projects/1/users/1", nil), ("GET", "/api/v1/projects/1/users/1/faces", nil),
            ("DELETE", "/api/v1/projects/1/users/1/faces", nil), ("POST", "/api/v1/projects/1/users/1/faces", ["image": "AA=="]),
            ("GET", "/api/v1/projects/1/users/1/faces/1", nil), ("PATCH", "/api/v1/projects/1/users/1/faces/1", ["image": "AA=="]),
            ("DELETE", "/api/v1/projects/1/users/1/faces/1", nil), ("POST", "/api/v1/projects/1/check-in", ["image": "AA=="]),
            ("POST", "/api/v1/projects/1/_search", ["image": "AA=="]),
        ]
    }

    @Test("a missing, empty or bad X-API-Token is 401 on every operation that needs one, before the body is read")
    func missingTokenIs401() async throws {
        try await Sim.with { sim in
            for op in Self.tokenOperations {
                let missing = try await sim.call(op.method, op.path, json: op.body)
                #expect(missing.status == 401, "\(op.method) \(op.path) without a token → \(missing.status) \(missing.text)")
                #expect(missing.json["code"] as? Int == 401)
                #expect((missing.json["message"] as? String)?.contains("X-API-Token") == true)
                let empty = try await sim.call(op.method, op.path, token: "", json: op.body)
                #expect(empty.status == 401, "\(op.method) \(op.path) with an empty token → \(empty.status)")
            }
            // Authentication comes before input validation: a bad token with a malformed body is 401, not 400.
            let malformed = try await sim.call("POST", "/api/v1/projects/1/users", token: "garbage", raw: Data("{not json".utf8))
            #expect(malformed.status == 401)
            let nullField = try await sim.call("POST", "/api/v1/projects/1/check-in", token: "garbage", raw: Data(#"{"image":null}"#.utf8))
            #expect(nullField.status == 401)
            // Issuing a key or a token needs no token.
            #expect(try await sim.call("POST", "/api/v1/auth/key", json: ["username": "kiosk", "password": Sim.password]).status == 201)
            // A revoked token is 401 too, and the valid one still works.
            let t = try await sim.token()
            #expect(try await sim.call("GET", "/api/v1/projects", token: t).status == 200)
            #expect(try await sim.call("DELETE", "/api/v1/auth/token", token: t).status == 200)
            #expect(try await sim.call("GET", "/api/v1/projects", token: t).status == 401)
        }
    }

    @Test("every method the contract does not declare on its paths is 405 with Allow; other paths stay 404")
    func undeclaredMethodIs405() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            // The declared methods come from the served contract itself, so this also proves the
            // simulator's route table matches openapi.yaml.
            let declared = Self.declaredMethods(in: String(decoding: AiDeeAPIDocument.yamlBytes, as: UTF8.self))
            #expect(declared.count == 9)
            #expect(declared.values.map(\.count).reduce(0, +) == 16)
            for (template, methods) in declared {
                let path =
                    "/api/v1"
                    + template.replacingOccurrences(of: "{project_id}", with: "1")
                    .replacingOccurrences(of: "{user_id}", with: "1").replacingOccurrences(of: "{face_id}", with: "1")
                for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"] where !methods.contains(method) {
                    let reply = try await sim.raw(method, path, token: t)
                    #expect(reply.status == 405, "\(method) \(path) → \(reply.status)")
                    let allow = Set((reply.headers["Allow"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(allow == methods, "\(method) \(path): Allow \(reply.headers["Allow"] ?? "none"), contract \(methods.sorted())")
                }
            }
            // Without a token too: routing comes first.
            let trace = try await sim.raw("TRACE", "/api/v1/auth/key")
            #expect(trace.status == 405)
            #expect(trace.headers["Allow"] == "POST")
            // Paths the contract does not have are still 404; the simulator's own routes are untouched.
            #expect(try await sim.raw("GET", "/api/v1/nothing", token: t).status == 404)
            #expect(try await sim.raw("GET", "/api/v1/projects/1/users", token: t).status == 405)
            #expect(try await sim.raw("GET", "/api/v1/projects/1/users/1/faces/1/extra", token: t).status == 404)
            #expect(try await sim.raw("GET", "/_sim/health").status == 200)
            #expect(try await sim.raw("GET", "/openapi.yaml").status == 200)
        }
    }

    @Test("a declared field sent as null is 400 naming it, and nothing is created; an undeclared extra may be null")
    func nullFieldsAre400() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            let user = try await sim.server.createUser(projectID: 1)
            let cases: [(String, String, String, String)] = [
                ("POST", "/api/v1/projects/1/users", #"{"properties": null}"#, "properties"),
                ("POST", "/api/v1/projects/1/users", #"{"group_id": null}"#, "group_id"),
                ("POST", "/api/v1/projects/1/users", #"{"registrant": "USER", "status": null}"#, "status"),
                ("PATCH", "/api/v1/projects/1/users/\(user)", #"{"registrant": null}"#, "registrant"),
                ("PATCH", "/api/v1/projects/1/users/\(user)", #"{"properties": null, "group_id": 3}"#, "properties"),
                ("POST", "/api/v1/projects/1/users/\(user)/faces", #"{"image": "AA==", "save_image": null}"#, "save_image"),
                ("POST", "/api/v1/projects/1/check-in", #"{"image": "AA==", "option": null}"#, "option"),
                ("POST", "/api/v1/projects/1/check-in", #"{"image": "AA==", "condition": null}"#, "condition"),
                ("POST", "/api/v1/projects/1/check-in", #"{"image": "AA==", "condition": {"group_id": null}}"#, "condition.group_id"),
                ("POST", "/api/v1/projects/1/_search", #"{"image": "AA==", "condition": {"properties": null}}"#, "condition.properties"),
                ("POST", "/api/v1/auth/key", #"{"username": "kiosk", "password": null}"#, "password"),
            ]
            for (method, path, body, field) in cases {
                let reply = try await sim.call(method, path, token: t, raw: Data(body.utf8))
                #expect(reply.status == 400, "\(method) \(path) \(body) → \(reply.status) \(reply.text)")
                #expect(reply.json["message"] as? String == "\(field) is null: leave an optional field out instead of sending null")
            }
            // No user was created by the refused requests, and the updated one is unchanged.
            let created = try await sim.call("POST", "/api/v1/projects/1/users", token: t, json: [:])
            #expect(created.json["id"] as? Int == user + 1)
            // "null" inside a string is text, and an extra field the contract does not name may be null.
            let extra = try await sim.call(
                "POST", "/api/v1/projects/1/users", token: t,
                raw: Data(#"{"registrant": "null", "note": null, "properties": {"k": "null"}}"#.utf8))
            #expect(extra.status == 201, "\(extra.text)")
            // A value inside properties must be a string: null there is refused by the decoder.
            #expect(
                try await sim.call("POST", "/api/v1/projects/1/users", token: t, raw: Data(#"{"properties": {"k": null}}"#.utf8)).status
                    == 400)
        }
    }

    @Test("an image that is not strict padded base64 is 400, even when the bytes behind it are a face")
    func strictBase64() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            let user = try await sim.server.createUser(projectID: 1)
            let face = Data(try Faces.bytes("facerec/obama2.jpg"))
            // What `base64` (GNU coreutils) and MIME encoders write: lines of 76 characters.
            let wrapped = face.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
            let plain = face.base64EncodedString()
            let withSpace = String(plain.prefix(8)) + " " + String(plain.dropFirst(8))
            var unpadded = plain
            while unpadded.hasSuffix("=") { unpadded.removeLast() }
            let urlSafe = plain.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "+", with: "-")
            var refused = [wrapped, withSpace, "AA=A", "A===", "AAA", "YW*j"]
            if unpadded != plain { refused.append(unpadded) }
            if urlSafe != plain { refused.append(urlSafe) }
            for image in refused {
                for path in ["/api/v1/projects/1/check-in", "/api/v1/projects/1/_search", "/api/v1/projects/1/users/\(user)/faces"] {
                    let reply = try await sim.call("POST", path, token: t, json: ["image": image])
                    #expect(reply.status == 400, "\(path) \(image.prefix(20))… → \(reply.status)")
                    #expect((reply.json["message"] as? String)?.hasPrefix("image is not base64") == true, "\(reply.text)")
                }
            }
            #expect(try await sim.server.checkIns(projectID: 1).isEmpty)
            #expect(try await sim.call("GET", "/api/v1/projects/1/users/\(user)/faces", token: t).array.isEmpty)
            // The same bytes, strictly encoded, are accepted; escaped slashes (`\/`) are plain JSON.
            let enrolled = try await sim.call("POST", "/api/v1/projects/1/users/\(user)/faces", token: t, json: ["image": plain])
            #expect(enrolled.status == 201, "\(enrolled.text)")
            let escaped = "{\"image\": \"" + plain.replacingOccurrences(of: "/", with: "\\/") + "\"}"
            let checkIn = try await sim.call("POST", "/api/v1/projects/1/check-in", token: t, raw: Data(escaped.utf8))
            #expect(checkIn.status == 200, "\(checkIn.text)")
        }
    }

    @Test("an id or group_id wider than 64 bits is 400 (the contract's range); the widest 64-bit id is 403/404")
    func sixtyFourBitIntegers() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            let user = try await sim.server.createUser(projectID: 1)
            for path in ["/api/v1/projects/9223372036854775808/users", "/api/v1/projects/-9223372036854775809/users"] {
                #expect(try await sim.call("POST", path, token: t, json: [:]).status == 400, "\(path)")
            }
            #expect(try await sim.call("POST", "/api/v1/projects/9223372036854775807/users", token: t, json: [:]).status == 403)
            #expect(try await sim.call("GET", "/api/v1/projects/1/users/9223372036854775807/faces", token: t).status == 404)
            #expect(try await sim.call("GET", "/api/v1/projects/1/users/1313053426157007216067506864128/faces", token: t).status == 400)
            #expect(
                try await sim.call(
                    "PATCH", "/api/v1/projects/1/users/\(user)", token: t,
                    raw: Data(#"{"group_id": 9223372036854775808}"#.utf8)
                ).status == 400)
            #expect(
                try await sim.call(
                    "PATCH", "/api/v1/projects/1/users/\(user)", token: t,
                    raw: Data(#"{"group_id": 9223372036854775807}"#.utf8)
                ).status == 200)
        }
    }

    /// Path templates and their methods, read from the contract's `paths:` block (two-space path
    /// keys, four-space method keys, as the committed document is written).
    static func declaredMethods(in yaml: String) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        var inPaths = false
        var current: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if !line.isEmpty, !line.hasPrefix(" ") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                current = String(line.dropFirst(2).dropLast())
                result[current!] = []
            } else if let path = current, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(String(key)) {
                    result[path]?.insert(key.uppercased())
                }
            }
        }
        return result
    }
}

extension Sim {
    struct RawReply {
        let status: Int
        let headers: [String: String]
    }

    /// A request with any method and no body; the answer's status and headers.
    func raw(_ method: String, _ path: String, token: String? = nil) async throws -> RawReply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue(token, forHTTPHeaderField: "X-API-Token") }
        let (_, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            if let name = name as? String, let value = value as? String { headers[name.capitalized] = value }
        }
        return RawReply(status: http?.statusCode ?? 0, headers: headers)
    }
}

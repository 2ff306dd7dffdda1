// aidee-sim robustness: hostile images answer 400 and it keeps serving; concurrent check-ins are safe.
import AiDeeSimulator
import Foundation
import Testing

@Suite("aidee-sim robustness", .enabled(if: assetsAvailable, "needs the models: run scripts/fetch-assets.sh"))
struct RobustnessTests {
    @Test("hostile images answer 400 and the server keeps serving")
    func hostileImages() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            let user = try await sim.server.createUser(projectID: 1)
            let path = "/api/v1/projects/1/users/\(user)/faces"

            // A PNG whose header claims 100000×100000 pixels: refused before any decoding.
            var bomb: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
            bomb += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0, 0, 0, 0, 0]
            let refused = try await sim.call("POST", path, token: t, json: ["image": Data(bomb).base64EncodedString()])
            #expect(refused.status == 400)
            #expect((refused.json["message"] as? String)?.contains("over the limit") == true)

            var g = SystemRandomNumberGenerator()
            let garbage: [[UInt8]] = [
                [0xFF, 0xD8, 0xFF] + (0..<4000).map { _ in UInt8.random(in: 0...255, using: &g) },
                [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<4000).map { _ in UInt8.random(in: 0...255, using: &g) },
                [], [0xFF, 0xD8], Array("GIF89a".utf8),
            ]
            for bytes in garbage {
                let reply = try await sim.call(
                    "POST", "/api/v1/projects/1/check-in", token: t, json: ["image": Data(bytes).base64EncodedString()])
                #expect(reply.status == 400, "\(bytes.prefix(8)) → \(reply.status) \(reply.text)")
            }
            for body in [
                "", "null", "[]", "{\"image\": null}", "{\"image\": \"\", \"option\": \"3\"}", "{\"condition\": 5, \"image\": \"AA==\"}",
            ] {
                let reply = try await sim.call("POST", "/api/v1/projects/1/check-in", token: t, raw: Data(body.utf8))
                #expect(reply.status == 400, "\(body) → \(reply.status) \(reply.text)")
            }
            #expect(try await sim.call("GET", "/_sim/health").status == 200)
        }
    }

    @Test("concurrent check-ins share the models safely")
    func concurrentCheckIns() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            let user = try await sim.server.createUser(projectID: 1)
            _ = try await sim.server.enrollFace(projectID: 1, userID: user, image: try Faces.bytes("facerec/obama.jpg"))
            let probes = ["facerec/obama2.jpg", "facerec/obama3.jpg", "facerec/32bit.png", "facerec/biden.jpg"]
            let statuses = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for probe in probes {
                    let body = try Faces.base64(probe)
                    group.addTask {
                        (probe, try await sim.call("POST", "/api/v1/projects/1/check-in", token: t, json: ["image": body]).status)
                    }
                }
                var all: [String: Int] = [:]
                for try await (probe, status) in group { all[probe] = status }
                return all
            }
            #expect(statuses == ["facerec/obama2.jpg": 200, "facerec/obama3.jpg": 200, "facerec/32bit.png": 200, "facerec/biden.jpg": 404])
            #expect(try await sim.server.checkIns(projectID: 1).count == 3)
        }
    }
}

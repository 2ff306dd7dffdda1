// aidee-sim's HTTP API over loopback: auth, projects, users, faces, check-in, search, the contract, restarts.
import AiDeeAPI
import AiDeeSimulator
import Foundation
import Testing

@Suite("aidee-sim API over loopback", .enabled(if: assetsAvailable, "needs the models: run scripts/fetch-assets.sh"))
struct APITests {
    @Test("auth: keys, tokens, renewal, revocation and their errors")
    func auth() async throws {
        try await Sim.with { sim in
            let key = try await sim.call("POST", "/api/v1/auth/key", json: ["username": "kiosk", "password": Sim.password])
            #expect(key.status == 201)
            #expect((key.json["secret"] as? String)?.count == 20)
            #expect(try await sim.call("POST", "/api/v1/auth/key", json: ["username": "kiosk", "password": "nope"]).status == 401)
            #expect(try await sim.call("POST", "/api/v1/auth/key", json: ["username": "nobody", "password": "x"]).status == 401)
            #expect(try await sim.call("POST", "/api/v1/auth/key", json: ["username": "viewer", "password": Sim.password]).status == 403)
            #expect(try await sim.call("POST", "/api/v1/auth/key", json: ["username": 5, "password": "x"]).status == 400)
            #expect(try await sim.call("POST", "/api/v1/auth/key", raw: Data("{not json".utf8)).status == 400)
            #expect(try await sim.call("POST", "/api/v1/auth/key", json: ["username": "kiosk"]).status == 400)

            let keyID = key.json["key"] as? String ?? ""
            let secret = key.json["secret"] as? String ?? ""
            #expect(try await sim.call("POST", "/api/v1/auth/token", json: ["key": keyID, "secret": "WRONG"]).status == 401)
            #expect(try await sim.call("POST", "/api/v1/auth/token", json: ["key": "not-a-uuid", "secret": secret]).status == 400)
            let issued = try await sim.call("POST", "/api/v1/auth/token", json: ["key": keyID, "secret": secret])
            #expect(issued.status == 201)
            #expect(issued.json["code"] as? Int == 200)
            let token = try #require(issued.json["token"] as? String)
            let expire = try #require(issued.json["expire"] as? String)
            let expiry = try AiDeeTimestamp.parse(expire)
            #expect(abs(AiDeeTimestamp.now().seconds(until: expiry) - 3600) < 60)

            #expect(try await sim.call("GET", "/api/v1/projects", token: token).array.map { $0["id"] as? Int } == [1])
            #expect(try await sim.call("GET", "/api/v1/projects", token: "garbage").status == 401)
            #expect(try await sim.call("GET", "/api/v1/projects").status == 401)

            let renewed = try await sim.call("PATCH", "/api/v1/auth/token", token: token)
            #expect(renewed.status == 200)
            let fresh = try #require(renewed.json["token"] as? String)
            #expect(fresh != token)
            #expect(try await sim.call("GET", "/api/v1/projects", token: fresh).status == 200)
            #expect(try await sim.call("PATCH", "/api/v1/auth/token", token: "garbage").status == 401)

            #expect(try await sim.call("DELETE", "/api/v1/auth/token", token: fresh).json["code"] as? Int == 200)
            #expect(try await sim.call("GET", "/api/v1/projects", token: fresh).status == 401)
            #expect(try await sim.call("DELETE", "/api/v1/auth/token", token: fresh).status == 401)
            #expect(try await sim.call("PATCH", "/api/v1/auth/token", token: fresh).status == 401)
        }
    }

    @Test("tokens expire after the configured lifetime")
    func tokenExpiry() async throws {
        try await Sim.with(tokenTTL: 1) { sim in
            let token = try await sim.token()
            #expect(try await sim.call("GET", "/api/v1/projects", token: token).status == 200)
            try await Task.sleep(for: .milliseconds(1300))
            let expired = try await sim.call("GET", "/api/v1/projects", token: token)
            #expect(expired.status == 401)
            #expect(expired.json["code"] as? Int == 401)
            #expect(try await sim.call("PATCH", "/api/v1/auth/token", token: token).status == 401)
        }
    }

    @Test("projects: each account sees and may use only its own")
    func projects() async throws {
        try await Sim.with { sim in
            let other = try await sim.token("other")
            #expect(try await sim.call("GET", "/api/v1/projects", token: other).array.map { $0["name"] as? String } == ["HQ", "Lab"])
            let kiosk = try await sim.token()
            let forbidden = try await sim.call("POST", "/api/v1/projects/2/users", token: kiosk, json: [:])
            #expect(forbidden.status == 403)
            #expect((forbidden.json["message"] as? String)?.contains("project 2") == true)
            #expect(try await sim.call("POST", "/api/v1/projects/99/users", token: kiosk, json: [:]).status == 403)
            #expect(try await sim.call("POST", "/api/v1/projects/2/users", token: other, json: [:]).status == 201)
            #expect(try await sim.call("POST", "/api/v1/projects/x/users", token: kiosk, json: [:]).status == 400)
        }
    }

    @Test("users: create, update, delete and their errors")
    func users() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            let created = try await sim.call(
                "POST", "/api/v1/projects/1/users", token: t,
                json: ["group_id": 1, "registrant": "USER", "status": "UNAPPROVED", "properties": ["site": "seoul"]])
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? Int)
            #expect((created.json["created_at"] as? String).flatMap(AiDeeTimestamp.init(rfc3339:)) != nil)
            #expect(try await sim.call("POST", "/api/v1/projects/1/users", token: t, json: ["status": "WHATEVER"]).status == 409)
            #expect(try await sim.call("POST", "/api/v1/projects/1/users", token: t, json: ["group_id": "one"]).status == 400)
            #expect(try await sim.call("POST", "/api/v1/projects/1/users", token: t, json: ["properties": ["n": 1]]).status == 400)

            let updated = try await sim.call("PATCH", "/api/v1/projects/1/users/\(id)", token: t, json: ["group_id": 2])
            #expect(updated.status == 200)
            #expect(updated.json["id"] as? Int == id)
            #expect(try await sim.call("PATCH", "/api/v1/projects/1/users/9999", token: t, json: ["group_id": 2]).status == 404)

            let locked = try await sim.server.createUser(projectID: 1, status: "LOCKED")
            #expect(try await sim.call("PATCH", "/api/v1/projects/1/users/\(locked)", token: t, json: ["group_id": 2]).status == 409)
            #expect(try await sim.call("DELETE", "/api/v1/projects/1/users/\(locked)", token: t).status == 409)

            #expect(try await sim.call("DELETE", "/api/v1/projects/1/users/\(id)", token: t).status == 200)
            #expect(try await sim.call("DELETE", "/api/v1/projects/1/users/\(id)", token: t).status == 404)
            #expect(try await sim.call("GET", "/api/v1/projects/1/users/\(id)/faces", token: t).status == 404)
        }
    }

    @Test("faces: add, list, get, replace, delete; bad images are 400, faceless ones 409")
    func faces() async throws {
        try await Sim.with(maxBodyBytes: 2 * 1024 * 1024) { sim in
            let t = try await sim.token()
            let user = try await sim.server.createUser(projectID: 1)
            let path = "/api/v1/projects/1/users/\(user)/faces"
            let obama = try Faces.bytes("facerec/obama.jpg")

            let added = try await sim.call("POST", path, token: t, json: ["save_image": true, "image": Data(obama).base64EncodedString()])
            #expect(added.status == 201)
            let faceID = try #require(added.json["id"] as? Int)
            let second = try await sim.call("POST", path, token: t, json: ["image": try Faces.base64("facerec/32bit.png")])
            #expect(second.status == 201)
            let list = try await sim.call("GET", path, token: t).array
            #expect(list.map { $0["has_image"] as? Bool } == [true, false])

            let got = try await sim.call("GET", "\(path)/\(faceID)", token: t)
            #expect(got.status == 200)
            #expect((got.json["image"] as? String).flatMap { Data(base64Encoded: $0) } == Data(obama))
            let secondID = try #require(second.json["id"] as? Int)
            #expect(try await sim.call("GET", "\(path)/\(secondID)", token: t).json["image"] == nil)
            #expect(try await sim.call("GET", "\(path)/9999", token: t).status == 404)

            // Errors: no face (409), not an image, bad base64, wrong type, oversize body (400), unknown user (404).
            let noFace = try await sim.call("POST", path, token: t, json: ["image": try Faces.base64(Faces.noFace)])
            #expect(noFace.status == 409)
            #expect((noFace.json["message"] as? String)?.contains("no face") == true)
            #expect(try await sim.call("POST", path, token: t, json: ["image": Data("hello".utf8).base64EncodedString()]).status == 400)
            #expect(try await sim.call("POST", path, token: t, json: ["image": "%%%not base64%%%"]).status == 400)
            #expect(try await sim.call("POST", path, token: t, json: ["image": 12]).status == 400)
            #expect(try await sim.call("POST", path, token: t, json: [:]).status == 400)
            let truncated = Data(obama.prefix(2000)).base64EncodedString()
            #expect(try await sim.call("POST", path, token: t, json: ["image": truncated]).status == 400)
            let huge = Data(repeating: 0x41, count: 3 * 1024 * 1024).base64EncodedString()
            let oversize = try await sim.call("POST", path, token: t, json: ["image": huge])
            #expect(oversize.status == 400)
            #expect((oversize.json["message"] as? String)?.contains("limit") == true)
            #expect(
                try await sim.call(
                    "POST", "/api/v1/projects/1/users/9999/faces", token: t,
                    json: ["image": Data(obama).base64EncodedString()]
                ).status == 404)

            let replaced = try await sim.call(
                "PATCH", "\(path)/\(faceID)", token: t, json: ["image": try Faces.base64("facerec/obama2.jpg")])
            #expect(replaced.status == 200)
            #expect(try await sim.call("GET", "\(path)/\(faceID)", token: t).json["image"] == nil)
            #expect(
                try await sim.call("PATCH", "\(path)/\(faceID)", token: t, json: ["image": try Faces.base64(Faces.noFace)]).status == 409)
            #expect(
                try await sim.call("PATCH", "\(path)/9999", token: t, json: ["image": try Faces.base64("facerec/obama2.jpg")]).status == 404
            )

            #expect(try await sim.call("DELETE", "\(path)/\(faceID)", token: t).status == 200)
            #expect(try await sim.call("DELETE", "\(path)/\(faceID)", token: t).status == 404)
            let all = try await sim.call("DELETE", path, token: t)
            #expect(all.status == 200)
            #expect(all.json["user_id"] as? Int == user)
            #expect(try await sim.call("GET", path, token: t).array.isEmpty)
            #expect(try await sim.call("DELETE", "/api/v1/projects/1/users/9999/faces", token: t).status == 404)
        }
    }

    @Test("check-in and search: match, stranger, condition, option, no face")
    func recognition() async throws {
        try await Sim.with { sim in
            let t = try await sim.token()
            let obama = try await sim.server.createUser(projectID: 1, groupID: 1, properties: ["site": "seoul"])
            _ = try await sim.server.enrollFace(projectID: 1, userID: obama, image: try Faces.bytes("facerec/obama.jpg"))
            let grace = try await sim.server.createUser(projectID: 1, groupID: 2, status: "UNAPPROVED")
            _ = try await sim.server.enrollFace(projectID: 1, userID: grace, image: try Faces.bytes("mpl/grace_hopper.jpg"))
            let probe = try Faces.base64("facerec/obama3.jpg")

            let ok = try await sim.call("POST", "/api/v1/projects/1/check-in", token: t, json: ["image": probe])
            #expect(ok.status == 200)
            #expect(ok.json["user_id"] as? Int == obama)
            #expect(ok.json["status"] as? String == "APPROVED")
            let similarity = try #require(ok.json["similarity"] as? Double)
            #expect(similarity >= 80)
            #expect(try await sim.server.checkIns(projectID: 1).map(\.userID) == [obama])

            let filtered = try await sim.call(
                "POST", "/api/v1/projects/1/check-in", token: t,
                json: ["image": probe, "condition": ["group_id": 1, "properties": ["site": "seoul"]]])
            #expect(filtered.status == 200)
            #expect(
                try await sim.call(
                    "POST", "/api/v1/projects/1/check-in", token: t,
                    json: ["image": probe, "condition": ["group_id": 2]]
                ).status == 409)
            #expect(
                try await sim.call(
                    "POST", "/api/v1/projects/1/check-in", token: t,
                    json: ["image": probe, "condition": ["properties": ["site": "busan"]]]
                ).status == 409)
            let stranger = try await sim.call(
                "POST", "/api/v1/projects/1/check-in", token: t, json: ["image": try Faces.base64("facerec/biden.jpg")])
            #expect(stranger.status == 404)
            #expect(
                try await sim.call("POST", "/api/v1/projects/1/check-in", token: t, json: ["image": try Faces.base64(Faces.noFace)]).status
                    == 409)
            #expect(try await sim.call("POST", "/api/v1/projects/1/check-in", token: t, json: ["image": probe, "option": 9]).status == 400)
            #expect(try await sim.call("POST", "/api/v1/projects/1/check-in", token: t, json: ["image": probe, "option": 1]).status == 200)
            #expect(try await sim.server.checkIns(projectID: 1).count == 3)

            let found = try await sim.call("POST", "/api/v1/projects/1/_search", token: t, json: ["image": probe])
            #expect(found.status == 200)
            #expect(found.json["matched"] as? Bool == true)
            #expect(found.json["user_id"] as? Int == obama)
            let near = try await sim.call(
                "POST", "/api/v1/projects/1/_search", token: t, json: ["image": try Faces.base64("facerec/biden.jpg")])
            #expect(near.status == 200)
            #expect(near.json["matched"] as? Bool == false)
            #expect(
                try await sim.call(
                    "POST", "/api/v1/projects/1/_search", token: t,
                    json: ["image": probe, "condition": ["group_id": 7]]
                ).status == 404)
            #expect(try await sim.server.checkIns(projectID: 1).count == 3, "search records nothing")
        }
    }

    @Test("the contract is served byte for byte at /openapi.yaml")
    func servesContract() async throws {
        try await Sim.with { sim in
            let doc = try await sim.call("GET", "/openapi.yaml")
            #expect(doc.status == 200)
            #expect([UInt8](doc.body) == AiDeeAPIDocument.yamlBytes)
            let health = try await sim.call("GET", "/_sim/health")
            #expect(health.json["status"] as? String == "ok")
        }
    }

    @Test("state survives a restart on the same data folder")
    func persistence() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aidee-sim-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (token, userID) = try await Sim.with(dataDirectory: dir) { first in
            let token = try await first.token()
            let user = try await first.call("POST", "/api/v1/projects/1/users", token: token, json: ["group_id": 3]).json["id"] as? Int
            let userID = try #require(user)
            #expect(
                try await first.call(
                    "POST", "/api/v1/projects/1/users/\(userID)/faces", token: token,
                    json: ["image": try Faces.base64("facerec/obama.jpg"), "save_image": true]
                ).status == 201)
            return (token, userID)
        }

        try await Sim.with(dataDirectory: dir) { second in
            #expect(try await second.call("GET", "/api/v1/projects", token: token).status == 200, "tokens persist")
            #expect(try await second.call("GET", "/api/v1/projects/1/users/\(userID)/faces", token: token).array.count == 1)
            let checkIn = try await second.call(
                "POST", "/api/v1/projects/1/check-in", token: token,
                json: ["image": try Faces.base64("facerec/obama2.jpg")])
            #expect(checkIn.status == 200)
            #expect(checkIn.json["user_id"] as? Int == userID)
        }
    }
}

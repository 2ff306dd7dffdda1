// SimulatorStore: the simulator's state in one SQLite file (GRDB), kept across restarts.
package import Foundation
import GRDB

/// Why the store failed: the SQLite file cannot be opened or written.
package struct SimulatorStoreError: Error, Sendable, CustomStringConvertible {
    package var operation: String
    package var path: String
    package var message: String

    package var description: String {
        "simulator database \(path): \(operation) failed: \(message). Check that --data points to a writable folder, or start with an empty one."
    }
}

/// The simulator's persistent state: accounts, keys, tokens, projects, users, faces, check-ins.
///
/// GRDB's `DatabaseQueue` owns the one connection and runs every statement on its own serial
/// queue, so SQLite steps never block the cooperative pool and the store is `Sendable`.
package final class SimulatorStore: Sendable {
    private let db: DatabaseQueue
    /// The SQLite file, or `:memory:`.
    package let path: String

    /// Opens (creating if needed) `simulator.sqlite` in `directory`, or an in-memory store.
    package init(directory: URL?) throws {
        do {
            if let directory {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                path = directory.appendingPathComponent("simulator.sqlite").path
                db = try DatabaseQueue(path: path)
            } else {
                path = ":memory:"
                db = try DatabaseQueue()
            }
            try Self.migrator.migrate(db)
        } catch let error as SimulatorStoreError {
            throw error
        } catch {
            throw SimulatorStoreError(operation: "open", path: directory?.path ?? ":memory:", message: "\(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE account (username TEXT PRIMARY KEY, password TEXT NOT NULL, can_issue_keys INTEGER NOT NULL);
                    CREATE TABLE api_key (key TEXT PRIMARY KEY, secret TEXT NOT NULL, username TEXT NOT NULL, created_at REAL NOT NULL);
                    CREATE TABLE token (token TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
                    CREATE TABLE project (id INTEGER PRIMARY KEY, name TEXT NOT NULL, members TEXT NOT NULL DEFAULT '');
                    CREATE TABLE user (id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL, group_id INTEGER,
                        registrant TEXT, status TEXT NOT NULL, properties TEXT NOT NULL DEFAULT '{}',
                        created_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE INDEX user_project ON user(project_id);
                    CREATE TABLE face (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                        project_id INTEGER NOT NULL, descriptor BLOB NOT NULL, image BLOB,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE INDEX face_project ON face(project_id);
                    CREATE TABLE checkin (id INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
                        face_id INTEGER NOT NULL, similarity REAL NOT NULL, at REAL NOT NULL);
                    """)
        }
        return m
    }

    private func write<T: Sendable>(_ operation: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await db.write(body) } catch {
            throw SimulatorStoreError(operation: operation, path: path, message: "\(error)")
        }
    }

    private func read<T: Sendable>(_ operation: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await db.read(body) } catch {
            throw SimulatorStoreError(operation: operation, path: path, message: "\(error)")
        }
    }

    // MARK: Accounts, keys, tokens

    /// Adds or replaces an account.
    package func upsert(_ account: SimulatorAccount) async throws {
        try await write("save account") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO account VALUES (?, ?, ?)",
                arguments: [account.username, account.password, account.canIssueKeys])
        }
    }

    /// The outcome of `POST /auth/key`.
    package enum KeyIssue: Sendable, Equatable {
        case issued(key: String, secret: String)
        case badCredentials
        case notAllowed
    }

    /// Issues a new key and secret for an account whose password matches.
    package func issueKey(username: String, password: String, now: Date = Date()) async throws -> KeyIssue {
        let key = UUID().uuidString.lowercased()
        let secret = Self.randomHex(bytes: 10)
        return try await write("issue key") { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT password, can_issue_keys FROM account WHERE username = ?", arguments: [username]),
                (row["password"] as String) == password
            else { return .badCredentials }
            guard row["can_issue_keys"] as Bool else { return .notAllowed }
            try db.execute(
                sql: "INSERT INTO api_key VALUES (?, ?, ?, ?)",
                arguments: [key, secret, username, now.timeIntervalSince1970])
            return .issued(key: key, secret: secret)
        }
    }

    /// Issues a token for a key and secret; `nil` when they do not match.
    package func issueToken(key: String, secret: String, ttl: TimeInterval, now: Date = Date()) async throws -> (
        token: String, expires: Date
    )? {
        let token = Self.newToken()
        let expires = now.addingTimeInterval(ttl)
        return try await write("issue token") { db in
            guard
                let username = try String.fetchOne(
                    db, sql: "SELECT username FROM api_key WHERE key = ? AND secret = ?",
                    arguments: [key.lowercased(), secret])
            else { return nil }
            try db.execute(
                sql: "INSERT INTO token (token, username, expires_at) VALUES (?, ?, ?)",
                arguments: [token, username, expires.timeIntervalSince1970])
            return (token, expires)
        }
    }

    /// The account a valid (known, unexpired, not revoked) token belongs to.
    package func account(forToken token: String, now: Date = Date()) async throws -> String? {
        try await read("check token") { db in
            try String.fetchOne(
                db, sql: "SELECT username FROM token WHERE token = ? AND revoked = 0 AND expires_at > ?",
                arguments: [token, now.timeIntervalSince1970])
        }
    }

    /// Every token issued so far, revoked or not (tests check that none leaks into files).
    package func allTokens() async throws -> [String] {
        try await read("list tokens") { db in try String.fetchAll(db, sql: "SELECT token FROM token") }
    }

    /// Renews a valid token: issues a fresh one with a full lifetime. The old token stays valid
    /// until its own expiry so calls already in flight with it still succeed.
    package func renewToken(_ token: String, ttl: TimeInterval, now: Date = Date()) async throws -> (token: String, expires: Date)? {
        let fresh = Self.newToken()
        let expires = now.addingTimeInterval(ttl)
        return try await write("renew token") { db in
            guard
                let username = try String.fetchOne(
                    db, sql: "SELECT username FROM token WHERE token = ? AND revoked = 0 AND expires_at > ?",
                    arguments: [token, now.timeIntervalSince1970])
            else { return nil }
            try db.execute(
                sql: "INSERT INTO token (token, username, expires_at) VALUES (?, ?, ?)",
                arguments: [fresh, username, expires.timeIntervalSince1970])
            return (fresh, expires)
        }
    }

    /// Revokes a valid token; `false` when it was not valid.
    package func revokeToken(_ token: String, now: Date = Date()) async throws -> Bool {
        try await write("revoke token") { db in
            try db.execute(
                sql: "UPDATE token SET revoked = 1 WHERE token = ? AND revoked = 0 AND expires_at > ?",
                arguments: [token, now.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    // MARK: Projects

    /// Adds or replaces a project.
    package func upsert(_ project: SimulatorProject) async throws {
        try await write("save project") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO project VALUES (?, ?, ?)",
                arguments: [project.id, project.name, project.members.joined(separator: ",")])
        }
    }

    /// All projects, by id.
    package func projects() async throws -> [SimulatorProject] {
        try await read("list projects") { db in
            try Row.fetchAll(db, sql: "SELECT id, name, members FROM project ORDER BY id").map { row in
                let members = (row["members"] as String).split(separator: ",").map(String.init)
                return SimulatorProject(id: row["id"], name: row["name"], members: members)
            }
        }
    }

    /// Projects an account may use.
    package func projects(for username: String) async throws -> [SimulatorProject] {
        try await projects().filter { $0.admits(username) }
    }

    // MARK: Users

    private static func user(_ row: Row) -> SimulatorUser {
        SimulatorUser(
            id: row["id"], projectID: row["project_id"], groupID: row["group_id"], registrant: row["registrant"],
            status: row["status"], propertiesJSON: row["properties"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    /// Number of users in a project.
    package func userCount(projectID: Int) async throws -> Int {
        try await read("count users") { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM user WHERE project_id = ?", arguments: [projectID]) ?? 0
        }
    }

    /// Creates a user and returns it.
    package func createUser(
        projectID: Int, groupID: Int?, registrant: String?, status: String,
        propertiesJSON: String, now: Date = Date()
    ) async throws -> SimulatorUser {
        try await write("create user") { db in
            let t = now.timeIntervalSince1970
            try db.execute(
                sql: """
                    INSERT INTO user (project_id, group_id, registrant, status, properties, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [projectID, groupID, registrant, status, propertiesJSON, t, t])
            return SimulatorUser(
                id: Int(db.lastInsertedRowID), projectID: projectID, groupID: groupID, registrant: registrant,
                status: status, propertiesJSON: propertiesJSON, createdAt: now, updatedAt: now)
        }
    }

    /// A user of a project, or `nil`.
    package func user(projectID: Int, userID: Int) async throws -> SimulatorUser? {
        try await read("read user") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM user WHERE id = ? AND project_id = ?", arguments: [userID, projectID]).map(Self.user)
        }
    }

    /// Updates the given fields of a user; `nil` when there is no such user.
    package func updateUser(
        projectID: Int, userID: Int, groupID: Int??, registrant: String??, status: String?,
        propertiesJSON: String?, now: Date = Date()
    ) async throws -> SimulatorUser? {
        try await write("update user") { db in
            guard
                var user = try Row.fetchOne(
                    db, sql: "SELECT * FROM user WHERE id = ? AND project_id = ?",
                    arguments: [userID, projectID]
                ).map(Self.user)
            else { return nil }
            if let groupID { user.groupID = groupID }
            if let registrant { user.registrant = registrant }
            if let status { user.status = status }
            if let propertiesJSON { user.propertiesJSON = propertiesJSON }
            user.updatedAt = now
            try db.execute(
                sql: "UPDATE user SET group_id = ?, registrant = ?, status = ?, properties = ?, updated_at = ? WHERE id = ?",
                arguments: [user.groupID, user.registrant, user.status, user.propertiesJSON, now.timeIntervalSince1970, userID])
            return user
        }
    }

    /// Deletes a user and their faces; `false` when there is no such user.
    package func deleteUser(projectID: Int, userID: Int) async throws -> Bool {
        try await write("delete user") { db in
            try db.execute(sql: "DELETE FROM face WHERE user_id = ? AND project_id = ?", arguments: [userID, projectID])
            try db.execute(sql: "DELETE FROM user WHERE id = ? AND project_id = ?", arguments: [userID, projectID])
            return db.changesCount > 0
        }
    }

    // MARK: Faces

    private static func face(_ row: Row) -> SimulatorFace? {
        guard let descriptor = FaceDescriptor(bytes: [UInt8](row["descriptor"] as Data)) else { return nil }
        let image: Data? = row["image"]
        return SimulatorFace(
            id: row["id"], userID: row["user_id"], projectID: row["project_id"], descriptor: descriptor,
            image: image.map { [UInt8]($0) },
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    /// Adds a face to a user.
    package func addFace(projectID: Int, userID: Int, descriptor: FaceDescriptor, image: [UInt8]?, now: Date = Date()) async throws
        -> SimulatorFace
    {
        try await write("add face") { db in
            let t = now.timeIntervalSince1970
            try db.execute(
                sql: """
                    INSERT INTO face (user_id, project_id, descriptor, image, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [userID, projectID, Data(descriptor.bytes), image.map { Data($0) }, t, t])
            return SimulatorFace(
                id: Int(db.lastInsertedRowID), userID: userID, projectID: projectID, descriptor: descriptor,
                image: image, createdAt: now, updatedAt: now)
        }
    }

    /// The faces of a user, by id.
    package func faces(projectID: Int, userID: Int) async throws -> [SimulatorFace] {
        try await read("list faces") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM face WHERE user_id = ? AND project_id = ? ORDER BY id",
                arguments: [userID, projectID]
            ).compactMap(Self.face)
        }
    }

    /// One face of a user, or `nil`.
    package func face(projectID: Int, userID: Int, faceID: Int) async throws -> SimulatorFace? {
        try await read("read face") { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM face WHERE id = ? AND user_id = ? AND project_id = ?",
                arguments: [faceID, userID, projectID]
            ).flatMap(Self.face)
        }
    }

    /// Replaces a face's descriptor and image; `nil` when there is no such face.
    package func replaceFace(
        projectID: Int, userID: Int, faceID: Int, descriptor: FaceDescriptor, image: [UInt8]?,
        now: Date = Date()
    ) async throws -> SimulatorFace? {
        try await write("replace face") { db in
            try db.execute(
                sql: "UPDATE face SET descriptor = ?, image = ?, updated_at = ? WHERE id = ? AND user_id = ? AND project_id = ?",
                arguments: [Data(descriptor.bytes), image.map { Data($0) }, now.timeIntervalSince1970, faceID, userID, projectID])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM face WHERE id = ?", arguments: [faceID]).flatMap(Self.face)
        }
    }

    /// Deletes one face; `false` when there is no such face.
    package func deleteFace(projectID: Int, userID: Int, faceID: Int) async throws -> Bool {
        try await write("delete face") { db in
            try db.execute(sql: "DELETE FROM face WHERE id = ? AND user_id = ? AND project_id = ?", arguments: [faceID, userID, projectID])
            return db.changesCount > 0
        }
    }

    /// Deletes all faces of a user; returns how many.
    package func deleteAllFaces(projectID: Int, userID: Int) async throws -> Int {
        try await write("delete faces") { db in
            try db.execute(sql: "DELETE FROM face WHERE user_id = ? AND project_id = ?", arguments: [userID, projectID])
            return db.changesCount
        }
    }

    /// Every enrolled face of a project with its user, for matching.
    package func candidates(projectID: Int) async throws -> [(face: SimulatorFace, user: SimulatorUser)] {
        try await read("load candidates") { db in
            let users = try Row.fetchAll(db, sql: "SELECT * FROM user WHERE project_id = ?", arguments: [projectID]).map(Self.user)
            let byID = Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            return try Row.fetchAll(db, sql: "SELECT * FROM face WHERE project_id = ?", arguments: [projectID])
                .compactMap(Self.face)
                .compactMap { face in byID[face.userID].map { (face, $0) } }
        }
    }

    // MARK: Check-ins

    /// Records a granted check-in.
    package func recordCheckIn(projectID: Int, userID: Int, faceID: Int, similarity: Double, at: Date) async throws {
        try await write("record check-in") { db in
            try db.execute(
                sql: "INSERT INTO checkin (project_id, user_id, face_id, similarity, at) VALUES (?, ?, ?, ?, ?)",
                arguments: [projectID, userID, faceID, similarity, at.timeIntervalSince1970])
        }
    }

    /// The check-ins of a project, oldest first.
    package func checkIns(projectID: Int) async throws -> [SimulatorCheckIn] {
        try await read("list check-ins") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM checkin WHERE project_id = ? ORDER BY id", arguments: [projectID]).map { row in
                SimulatorCheckIn(
                    id: row["id"], projectID: row["project_id"], userID: row["user_id"], faceID: row["face_id"],
                    similarity: row["similarity"], at: Date(timeIntervalSince1970: row["at"]))
            }
        }
    }

    // MARK: Random values

    static func randomHex(bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let b = UInt8.random(in: 0...255, using: &g)
            let s = String(b, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    /// An opaque token shaped like the seed's sample (`header.payload.hash`).
    static func newToken() -> String {
        "sim.\(randomHex(bytes: 12)).\(randomHex(bytes: 16))".lowercased()
    }
}

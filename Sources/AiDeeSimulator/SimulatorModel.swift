// The simulator's domain values: accounts, projects, users, faces, check-ins.
import Foundation

/// An account that may log in with `POST /auth/key`.
public struct SimulatorAccount: Sendable, Hashable {
    public var username: String
    public var password: String
    /// `false` makes `POST /auth/key` answer 403 for this account (the seed's "account not
    /// allowed to issue API keys").
    public var canIssueKeys: Bool

    public init(username: String, password: String, canIssueKeys: Bool = true) {
        self.username = username
        self.password = password
        self.canIssueKeys = canIssueKeys
    }

    /// Parses `user:password` or `user:password:nokeys` (the `--account` flag). The password
    /// may not contain `:`.
    public init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "nokeys"),
            !parts[0].isEmpty, !parts[1].isEmpty
        else { return nil }
        self.init(username: parts[0], password: parts[1], canIssueKeys: parts.count == 2)
    }
}

/// A project that tokens may use.
public struct SimulatorProject: Sendable, Hashable {
    public var id: Int
    public var name: String
    /// Accounts allowed to use the project; empty means every account.
    public var members: [String]

    public init(id: Int, name: String, members: [String] = []) {
        self.id = id
        self.name = name
        self.members = members
    }

    /// Parses `ID:NAME` or `ID:NAME:user1,user2` (the `--project` flag).
    public init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let id = Int(parts[0]), id > 0, !parts[1].isEmpty else { return nil }
        let members = parts.count == 3 ? parts[2].split(separator: ",").map(String.init) : []
        self.init(id: id, name: parts[1], members: members)
    }

    /// Whether `username` may use this project.
    public func admits(_ username: String) -> Bool { members.isEmpty || members.contains(username) }
}

/// User states the simulator accepts. Only the API's sample values are known from the seed
/// (`UNAPPROVED`, `APPROVED`); the rest are the simulator's documented choice.
public enum SimulatorUserStatus: String, Sendable, CaseIterable {
    case unapproved = "UNAPPROVED"
    case approved = "APPROVED"
    case rejected = "REJECTED"
    case suspended = "SUSPENDED"
    /// A protected user: `DELETE` answers 409 until the status changes.
    case locked = "LOCKED"
}

/// An enrolled person.
public struct SimulatorUser: Sendable, Equatable {
    public var id: Int
    public var projectID: Int
    public var groupID: Int?
    public var registrant: String?
    public var status: String
    /// Free-form JSON object, stored as its JSON text.
    public var propertiesJSON: String
    public var createdAt: Date
    public var updatedAt: Date
}

/// A stored face: the descriptor always, the image only when enrolled with `save_image`.
public struct SimulatorFace: Sendable, Equatable {
    public var id: Int
    public var userID: Int
    public var projectID: Int
    public var descriptor: FaceDescriptor
    public var image: [UInt8]?
    public var createdAt: Date
    public var updatedAt: Date
}

/// One check-in the simulator granted (kept for tests and demos).
public struct SimulatorCheckIn: Sendable, Equatable {
    public var id: Int
    public var projectID: Int
    public var userID: Int
    public var faceID: Int
    public var similarity: Double
    public var at: Date
}

// The simulator's domain values: accounts, projects, users, faces, check-ins.
package import Foundation

/// An account that may log in with `POST /auth/key`.
package struct SimulatorAccount: Sendable, Hashable {
    package var username: String
    package var password: String
    /// `false` makes `POST /auth/key` answer 403 for this account (the seed's "account not
    /// allowed to issue API keys").
    package var canIssueKeys: Bool

    package init(username: String, password: String, canIssueKeys: Bool = true) {
        self.username = username
        self.password = password
        self.canIssueKeys = canIssueKeys
    }

    /// Parses `user:password` or `user:password:nokeys` (the `--account` flag). The password
    /// may not contain `:`.
    package init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "nokeys"),
            !parts[0].isEmpty, !parts[1].isEmpty
        else { return nil }
        self.init(username: parts[0], password: parts[1], canIssueKeys: parts.count == 2)
    }
}

/// A project that tokens may use.
package struct SimulatorProject: Sendable, Hashable {
    package var id: Int
    package var name: String
    /// Accounts allowed to use the project; empty means every account.
    package var members: [String]

    package init(id: Int, name: String, members: [String] = []) {
        self.id = id
        self.name = name
        self.members = members
    }

    /// Parses `ID:NAME` or `ID:NAME:user1,user2` (the `--project` flag).
    package init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let id = Int(parts[0]), id > 0, !parts[1].isEmpty else { return nil }
        let members = parts.count == 3 ? parts[2].split(separator: ",").map(String.init) : []
        self.init(id: id, name: parts[1], members: members)
    }

    /// Whether `username` may use this project.
    package func admits(_ username: String) -> Bool { members.isEmpty || members.contains(username) }
}

/// User states the simulator accepts. Only the API's sample values are known from the seed
/// (`UNAPPROVED`, `APPROVED`); the rest are the simulator's documented choice.
package enum SimulatorUserStatus: String, Sendable, CaseIterable {
    case unapproved = "UNAPPROVED"
    case approved = "APPROVED"
    case rejected = "REJECTED"
    case suspended = "SUSPENDED"
    /// A protected user: `DELETE` answers 409 until the status changes.
    case locked = "LOCKED"
}

/// An enrolled person.
package struct SimulatorUser: Sendable, Equatable {
    package var id: Int
    package var projectID: Int
    package var groupID: Int?
    package var registrant: String?
    package var status: String
    /// Free-form JSON object, stored as its JSON text.
    package var propertiesJSON: String
    package var createdAt: Date
    package var updatedAt: Date
}

/// A stored face: the descriptor always, the image only when enrolled with `save_image`.
package struct SimulatorFace: Sendable, Equatable {
    package var id: Int
    package var userID: Int
    package var projectID: Int
    package var descriptor: FaceDescriptor
    package var image: [UInt8]?
    package var createdAt: Date
    package var updatedAt: Date
}

/// One check-in the simulator granted (kept for tests and demos).
package struct SimulatorCheckIn: Sendable, Equatable {
    package var id: Int
    package var projectID: Int
    package var userID: Int
    package var faceID: Int
    package var similarity: Double
    package var at: Date
}

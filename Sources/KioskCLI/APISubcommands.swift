// The leaf commands of `kioskctl api`.

import AiDeeAPI
import ArgumentParser
import FaceAiDee
import Foundation

// MARK: key, token, projects

struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "API keys.", subcommands: [Issue.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue an API key and secret for an account (POST /auth/key).",
            discussion: "The secret is printed only with --show-secret; --save writes key and secret to a mode-0600 file for --credentials."
        )
        @OptionGroup var api: APIOptions
        @Option(help: "Account name.") var username: String
        @Flag(help: "Read the account password from standard input (one line); without it, it is asked for.")
        var passwordStdin = false
        // Refused with an explanation; kept so old scripts get a clear error, not "unknown option".
        @Option(help: .private) var password: String?
        @Option(help: "Write the key and secret to this file (mode 0600).") var save: String?
        @Flag(help: "Print the secret (it is shown by the server only once).") var showSecret = false

        func validate() throws {
            if password != nil { throw ValidationError(PasswordInput.onCommandLineRefused) }
        }

        func run() async throws {
            let password = try PasswordInput.read(fromStandardInput: passwordStdin)
            try await APIRunner.run(api, needsCredentials: false) { client, _ in
                let credentials = try await client.issueKey(username: username, password: password)
                if let save { try credentials.save(to: save) }
                var json: [String: Any] = ["key": credentials.key]
                var text = "key: \(credentials.key)"
                if showSecret {
                    json["secret"] = credentials.secret
                    text += "\nsecret: \(credentials.secret)"
                } else {
                    text += "\nsecret: <hidden; use --show-secret or --save FILE>"
                }
                if let save {
                    json["saved_to"] = save
                    text += "\nsaved to \(save) (mode 0600)"
                }
                return (text, json)
            }
        }
    }
}

struct APITokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "API tokens (checks that the credentials work).",
        subcommands: [Issue.self, Renew.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token (POST /auth/token) and print its expiry.").compactUsage(
            "kioskctl api token issue [<options>]")
        @OptionGroup var api: APIOptions
        func run() async throws {
            try await APIRunner.run(api) { client, _ in
                let expiry = try await client.issueToken()
                return ("token issued, expires \(expiry.rfc3339)", ["expire": expiry.rfc3339])
            }
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token, then renew it (PATCH /auth/token) and print the new expiry."
        ).compactUsage("kioskctl api token renew [<options>]")
        @OptionGroup var api: APIOptions
        func run() async throws {
            try await APIRunner.run(api) { client, _ in
                let expiry = try await client.renewToken()
                return ("token renewed, expires \(expiry.rfc3339)", ["expire": expiry.rfc3339])
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token, then revoke it (DELETE /auth/token).").compactUsage(
            "kioskctl api token revoke [<options>]")
        @OptionGroup var api: APIOptions
        func run() async throws {
            try await APIRunner.run(api) { client, _ in
                try await client.issueToken()
                try await client.revokeToken()
                return ("token revoked", ["revoked": true])
            }
        }
    }
}

struct APIProjectsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "projects", abstract: "List the projects the key may use (GET /projects).")
        .compactUsage("kioskctl api projects [<options>]")
    @OptionGroup var api: APIOptions
    func run() async throws {
        try await APIRunner.run(api) { client, _ in
            let projects = try await client.listProjects()
            let text = projects.isEmpty ? "no projects" : projects.map { "\($0.id)\t\($0.name)" }.joined(separator: "\n")
            return (
                text,
                [
                    "projects": projects.map { project -> [String: Any] in
                        var item: [String: Any] = ["id": project.id, "name": project.name]
                        if let created = project.createdAt { item["created_at"] = created.rfc3339 }
                        return item
                    }
                ]
            )
        }
    }
}

// MARK: users

struct APIUsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Create, update and delete users.",
        subcommands: [Create.self, Update.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user (POST /projects/{id}/users).")
        @OptionGroup var api: APIOptions
        @Option(help: "Group id.") var groupId: Int?
        @Option(help: "Registrant, e.g. USER.") var registrant: String?
        @Option(help: "Status, e.g. APPROVED or UNAPPROVED (server default APPROVED).") var status: String?
        @Option(name: .customLong("property"), help: "A property key=value (repeatable).") var properties: [String] = []

        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let user = AiDeeNewUser(
                    groupId: groupId, registrant: registrant, status: status,
                    properties: try APIRunner.parseProperties(properties).map { AiDeeProperties(additionalProperties: $0) })
                let change = try await client.createUser(projectID: try settings.requireProject(), user)
                return ("user \(change.id) created at \(change.at.rfc3339)", ["id": change.id, "created_at": change.at.rfc3339])
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Update a user (PATCH /projects/{id}/users/{user}); only the given fields change.")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int
        @Option(help: "Group id.") var groupId: Int?
        @Option(help: "Registrant.") var registrant: String?
        @Option(name: .customLong("property"), help: "A property key=value (repeatable; replaces all properties).") var properties:
            [String] = []

        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let update = AiDeeUserUpdate(
                    groupId: groupId, registrant: registrant,
                    properties: try APIRunner.parseProperties(properties).map { AiDeeProperties(additionalProperties: $0) })
                let change = try await client.updateUser(projectID: try settings.requireProject(), userID: user, update)
                return ("user \(change.id) updated at \(change.at.rfc3339)", ["id": change.id, "updated_at": change.at.rfc3339])
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user and their faces (DELETE /projects/{id}/users/{user}).")
            .compactUsage("kioskctl api users delete --user <user> [<options>]")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int

        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let change = try await client.deleteUser(projectID: try settings.requireProject(), userID: user)
                return ("user \(change.id) deleted at \(change.at.rfc3339)", ["id": change.id, "deleted_at": change.at.rfc3339])
            }
        }
    }
}

// MARK: faces

struct APIFacesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faces", abstract: "Enrol and manage a user's faces.",
        subcommands: [List.self, Add.self, Get.self, Update.self, Delete.self, DeleteAll.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's faces.").compactUsage(
            "kioskctl api faces list --user <user> [<options>]")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int
        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let faces = try await client.listFaces(projectID: try settings.requireProject(), userID: user)
                let text =
                    faces.isEmpty
                    ? "no faces"
                    : faces.map { "\($0.id)\t\($0.createdAt.rfc3339)\t\($0.hasImage ? "image saved" : "no image")" }.joined(separator: "\n")
                return (
                    text,
                    [
                        "faces": faces.map { face -> [String: Any] in
                            var item: [String: Any] = ["id": face.id, "created_at": face.createdAt.rfc3339, "has_image": face.hasImage]
                            if let updated = face.updatedAt { item["updated_at"] = updated.rfc3339 }
                            return item
                        }
                    ]
                )
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a face from a JPEG or PNG file, sent as-is.").compactUsage(
            "kioskctl api faces add --user <user> --image <image> [<options>]")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int
        @Option(help: "JPEG or PNG file with one face.") var image: String
        @Flag(help: "Ask the server to keep the image (for `faces get`).") var saveImage = false
        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let bytes = try APIRunner.readImage(image)
                let change = try await client.addFace(
                    projectID: try settings.requireProject(), userID: user, image: bytes, saveImage: saveImage)
                return ("face \(change.id) added at \(change.at.rfc3339)", ["id": change.id, "created_at": change.at.rfc3339])
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a face; --out writes its stored image to a file.")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int
        @Option(help: "Face id.") var face: Int
        @Option(help: "Write the stored image here (mode 0600; it shows a face).") var out: String?
        @Flag(help: "Replace the --out file if it exists.") var force = false
        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let stored = try await client.getFace(projectID: try settings.requireProject(), userID: user, faceID: face)
                var json: [String: Any] = ["id": stored.id, "created_at": stored.createdAt.rfc3339, "has_image": stored.image != nil]
                if let updated = stored.updatedAt { json["updated_at"] = updated.rfc3339 }
                var text = "face \(stored.id), added \(stored.createdAt.rfc3339)"
                if let image = stored.image {
                    json["image_bytes"] = image.count
                    text += ", image \(image.count) bytes"
                    if let out {
                        try FaceFile.write(image, to: out, force: force)
                        json["written_to"] = out
                        text += ", written to \(out)"
                    }
                } else {
                    text += ", no stored image (added without --save-image)"
                    if out != nil {
                        throw CommandFailure(
                            .notFound, "face \(stored.id) has no stored image to write (it was added without --save-image)")
                    }
                }
                return (text, json)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a face's image.").compactUsage(
            "kioskctl api faces update --user <user> --face <face> --image <image>")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int
        @Option(help: "Face id.") var face: Int
        @Option(help: "JPEG or PNG file with one face.") var image: String
        @Flag(help: "Ask the server to keep the image.") var saveImage = false
        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let bytes = try APIRunner.readImage(image)
                let change = try await client.updateFace(
                    projectID: try settings.requireProject(), userID: user, faceID: face, image: bytes, saveImage: saveImage)
                return ("face \(change.id) updated at \(change.at.rfc3339)", ["id": change.id, "updated_at": change.at.rfc3339])
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a face.").compactUsage(
            "kioskctl api faces delete --user <user> --face <face> [<options>]")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int
        @Option(help: "Face id.") var face: Int
        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let change = try await client.deleteFace(projectID: try settings.requireProject(), userID: user, faceID: face)
                return ("face \(change.id) deleted at \(change.at.rfc3339)", ["id": change.id, "deleted_at": change.at.rfc3339])
            }
        }
    }

    struct DeleteAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete-all", abstract: "Delete all of a user's faces.").compactUsage(
            "kioskctl api faces delete-all --user <user> [<options>]")
        @OptionGroup var api: APIOptions
        @Option(help: "User id.") var user: Int
        func run() async throws {
            try await APIRunner.run(api) { client, settings in
                let change = try await client.deleteAllFaces(projectID: try settings.requireProject(), userID: user)
                return (
                    "all faces of user \(change.id) deleted at \(change.at.rfc3339)",
                    ["user_id": change.id, "deleted_at": change.at.rfc3339]
                )
            }
        }
    }
}

// MARK: recognition

struct APICheckInCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-in", abstract: "Check a face in (POST /projects/{id}/check-in), as the kiosk does."
    ).compactUsage("kioskctl api check-in --image <image> [<options>]")
    @OptionGroup var api: APIOptions
    @Option(help: "JPEG or PNG file.") var image: String
    @Option(help: #"Condition JSON, e.g. {"group_id": 2, "properties": {"site": "seoul"}}."#) var condition: String?
    @Option(help: "Match strictness 1-5 (70-90 %; server default 3 = 80 %).") var option: Int?

    func run() async throws {
        try await APIRunner.run(api) { client, settings in
            let bytes = try APIRunner.readImage(image)
            let result = try await client.checkIn(
                projectID: try settings.requireProject(), jpeg: bytes, condition: try APIRunner.parseCondition(condition), option: option)
            return (
                "user \(result.userID) \(result.status), similarity \(result.similarity) %, at \(result.checkedInAt.rfc3339)",
                [
                    "user_id": result.userID, "status": result.status, "similarity": result.similarity,
                    "checkin_at": result.checkedInAt.rfc3339,
                ]
            )
        }
    }
}

struct APISearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Identify a face without checking in (POST /projects/{id}/_search)."
    ).compactUsage("kioskctl api search --image <image> [<options>]")
    @OptionGroup var api: APIOptions
    @Option(help: "JPEG or PNG file.") var image: String
    @Option(help: #"Condition JSON, e.g. {"group_id": 2}."#) var condition: String?

    func run() async throws {
        try await APIRunner.run(api) { client, settings in
            let bytes = try APIRunner.readImage(image)
            let result = try await client.search(
                projectID: try settings.requireProject(), image: bytes, condition: try APIRunner.parseCondition(condition))
            return (
                "closest user \(result.userID), similarity \(result.similarity) %, \(result.matched ? "matched" : "below the threshold")",
                [
                    "user_id": result.userID, "matched": result.matched, "similarity": result.similarity,
                    "searched_at": result.searchedAt.rfc3339,
                ]
            )
        }
    }
}

// MARK: failures reported the kioskctl way

extension APIKeyCommand.Issue: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APITokenCommand.Issue: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APITokenCommand.Renew: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APITokenCommand.Revoke: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIProjectsCommand: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIUsersCommand.Create: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIUsersCommand.Update: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIUsersCommand.Delete: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIFacesCommand.List: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIFacesCommand.Add: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIFacesCommand.Get: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIFacesCommand.Update: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIFacesCommand.Delete: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APIFacesCommand.DeleteAll: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APICheckInCommand: KioskctlCommand { var global: GlobalOptions { api.global } }
extension APISearchCommand: KioskctlCommand { var global: GlobalOptions { api.global } }

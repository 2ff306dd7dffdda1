// The `user_id,card_number` lookup file: parsed and range-checked, errors naming the file and line.
package import DoorIO
import Foundation

/// Face AiDee user → card number, for sites that enrolled faces against existing cards
/// (`panel.lookup_file`). One `user_id,card_number` pair a line; a header line, blank lines and
/// `#` comments are allowed.
package struct CardTable: Sendable, Equatable {
    /// Card number by user id.
    package var cards: [Int: UInt64]

    package init(cards: [Int: UInt64] = [:]) { self.cards = cards }

    /// Reads and checks `path`: every card must fit `format`, every user appear once.
    package static func load(path: String, format: WiegandFormat) throws(CardTableError) -> CardTable {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CardTableError(
                path: path, line: nil, message: "cannot read it (\(error.localizedDescription)); check the path and permissions")
        }
        return try parse(text, path: path, format: format)
    }

    /// Parses the file's text (`path` only names it in errors).
    package static func parse(_ text: String, path: String, format: WiegandFormat) throws(CardTableError) -> CardTable {
        var cards: [Int: UInt64] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if number == 1, fields.first?.lowercased() == "user_id" { continue }
            guard fields.count == 2 else {
                throw CardTableError(path: path, line: number, message: "expected user_id,card_number, found \(fields.count) field(s)")
            }
            guard let user = Int(fields[0]), user >= 0 else {
                throw CardTableError(path: path, line: number, message: "'\(fields[0])' is not a user id (a whole number)")
            }
            guard let card = UInt64(fields[1]) else {
                throw CardTableError(path: path, line: number, message: "'\(fields[1])' is not a card number (a whole number)")
            }
            if card > format.maxCard {
                throw CardTableError(path: path, line: number, message: "card \(card) does not fit \(format) (0-\(format.maxCard))")
            }
            if cards[user] != nil {
                throw CardTableError(path: path, line: number, message: "user \(user) appears twice; one card per user")
            }
            cards[user] = card
        }
        return CardTable(cards: cards)
    }
}

/// A problem in the lookup file, naming the file and line.
package struct CardTableError: Error, Sendable, Equatable, CustomStringConvertible {
    package var path: String
    package var line: Int?
    package var message: String

    package var description: String {
        "\(path)\(line.map { " line \($0)" } ?? ""): \(message)"
    }
}

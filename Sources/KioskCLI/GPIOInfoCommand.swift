// `kioskctl gpio info`: chips and lines with names, directions and consumers.
import ArgumentParser
import DoorIO

struct GPIOInfoCommand: AsyncParsableCommand, KioskctlCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "List GPIO chips and their lines: offset, name, direction, active-low, consumer (who holds it).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Only this chip (name, label, path or number).")
    var chip: String?

    mutating func run() async throws {
        let chips: [GPIOChipInfo]
        if let chip {
            chips = [try gpio { () throws(DoorIOError) in try GPIOInventory.chip(chip) }]
        } else {
            chips = GPIOInventory.chips()
        }
        if global.json {
            JSONOutput.print([
                "chips": chips.map { chip -> [String: Any] in
                    [
                        "name": chip.name, "label": chip.label, "path": chip.path,
                        "lines": chip.lines.map { line -> [String: Any] in
                            var item: [String: Any] = [
                                "offset": Int(line.offset), "used": line.used, "output": line.isOutput, "active_low": line.activeLow,
                            ]
                            if let name = line.name { item["name"] = name }
                            if let consumer = line.consumer { item["consumer"] = consumer }
                            if let bias = line.bias { item["bias"] = bias.rawValue }
                            return item
                        },
                    ]
                }
            ])
            return
        }
        if chips.isEmpty {
            print("no GPIO chips found under /dev (no GPIO on this machine, or no permission: run as root or join the gpio group)")
            return
        }
        let roleByLineName = Dictionary(
            DoorIOConfiguration.conventionalLineNames.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        for chip in chips {
            print("\(chip.name) [\(chip.label)] \(chip.lines.count) lines  (\(chip.path))")
            for line in chip.lines {
                print(Self.format(line, role: line.name.flatMap { roleByLineName[$0] }))
            }
        }
    }

    static func format(_ line: GPIOLineInfo, role: String?) -> String {
        func column(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
        let name = line.name.map { "\"\($0)\"" } ?? "unnamed"
        let consumer = line.consumer.map { "held by \"\($0)\"" } ?? (line.used ? "used (kernel)" : "free")
        var flags: [String] = [line.isOutput ? "output" : "input"]
        if line.activeLow { flags.append("active-low") }
        if let bias = line.bias { flags.append(bias.rawValue) }
        let roleText = role.map { "  role: \($0)" } ?? ""
        return "  " + column("\(line.offset)", 5) + column(name, 18) + column(flags.joined(separator: ","), 26) + consumer + roleText
    }
}

// The kioskctl command tree as the argument parser sees it: command names and usage errors.
import Testing

@testable import KioskCLI

/// The `kioskctl` command tree as the argument parser sees it, without running any command.
@Suite struct KioskCLISmokeTests {
    @Test("each command group is reached by its documented name")
    func groupsAreReachable() throws {
        let names = KioskControl.configuration.subcommands.compactMap { $0.configuration.commandName }
        #expect(Set(names).isSuperset(of: ["gpio", "detect", "queue", "events", "camera", "status", "api", "aim"]))
        #expect(try KioskControl.parseAsRoot(["gpio"]) is GPIOCommand)
        let detect = try KioskControl.parseAsRoot(["detect", "--image", "face.jpg"])
        #expect((detect as? DetectCommand)?.image == "face.jpg")
        #expect(try KioskControl.parseAsRoot(["queue"]) is QueueStatusCommand, "`queue` alone shows the status")
        #expect(try KioskControl.parseAsRoot(["queue", "list"]) is QueueListCommand)
        #expect(try KioskControl.parseAsRoot(["events"]) is EventsCommand)
        #expect(try KioskControl.parseAsRoot(["camera", "list"]) is CameraListCommand)
        #expect(try KioskControl.parseAsRoot(["status"]) is StatusCommand)
        #expect(try KioskControl.parseAsRoot(["api"]) is APICommand)
    }

    @Test("an unknown command or a missing required option is a usage error that names it")
    func usageErrors() {
        for (arguments, named) in [(["frobnicate"], "frobnicate"), (["detect"], "--image")] {
            do {
                let parsed = try KioskControl.parseAsRoot(arguments)
                Issue.record("`kioskctl \(arguments.joined(separator: " "))` parsed as \(type(of: parsed))")
            } catch {
                #expect(KioskControl.exitCode(for: error) == .validationFailure, "\(arguments): \(error)")
                #expect(KioskControl.fullMessage(for: error).contains(named), "\(KioskControl.fullMessage(for: error))")
            }
        }
    }
}

// KioskControl: the `kioskctl` root command and its subcommands (gpio, detect, queue, events, camera…).
package import ArgumentParser

/// `kioskctl`: field diagnostics and administration for the kiosk agent.
package struct KioskControl: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "kioskctl",
        abstract: "Field diagnostics and administration for the kiosk agent.",
        subcommands: [
            GPIOCommand.self,
            DetectCommand.self,
            QueueCommand.self,
            EventsCommand.self,
            CameraCommand.self,
            StatusCommand.self,
            APICommand.self,
            PanelCommand.self,
            AimCommand.self,
            DoctorCommand.self,
            ReportCommand.self,
        ]
    )

    // Not CommandConfiguration.version: reading each library's version is only done when asked.
    @Flag(help: "Print the version, git commit, Swift compiler and each system library's version, and exit.")
    var version = false

    package init() {}

    /// Parses the process's arguments and runs the chosen subcommand, exiting with its status
    /// (``KioskctlExit``; failures reported by ``FailureReport``). (The executable cannot use
    /// `@main` on a type from a library.)
    package static func runFromCommandLine() async {
        await FailureReport.run(Array(CommandLine.arguments.dropFirst()))
    }
}

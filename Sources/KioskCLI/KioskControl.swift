import ArgumentParser

/// `kioskctl`: field diagnostics and administration for the kiosk agent.
public struct KioskControl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kioskctl",
        abstract: "Field diagnostics and administration for the kiosk agent.",
        subcommands: [
            GPIOCommand.self,
            DetectCommand.self,
            QueueCommand.self,
            EventsCommand.self,
            CameraCommand.self,
        ]
    )

    public init() {}
}

// Usage lines that fit a serial console: the command's required arguments, then [<options>].
import ArgumentParser

extension CommandConfiguration {
    /// The configuration with `synopsis` as its usage line. ArgumentParser lists every option in
    /// the generated line, and with the shared `--config`/`--json`/`--verbose` and the API
    /// options most commands' lines ran to 100-250 columns; a technician on an 80-column serial
    /// console reads the required arguments here and the options in the list below.
    func compactUsage(_ synopsis: String) -> CommandConfiguration {
        var configuration = self
        configuration.usage = synopsis
        return configuration
    }
}

// kiosk-bench: the benchmark command (`make bench`); each area's figures come from a subcommand of its own.
import ArgumentParser

/// `kiosk-bench`: benchmarks that print figures (run by `make bench`, built in release mode).
/// Each area adds one subcommand in a file of its own; figures are printed, never asserted.
@main
struct KioskBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiosk-bench",
        abstract: "Benchmarks of the kiosk agent; each prints its figures.",
        subcommands: [
            AllBenchmark.self,
            DetectionBenchmark.self,
            OutboxBenchmark.self,
            ImagingBenchmark.self,
            PipelineBenchmark.self,
            APIBenchmark.self,
        ]
    )
}

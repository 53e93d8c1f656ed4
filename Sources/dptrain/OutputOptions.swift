import ArgumentParser
import Training

/// How much the log says, for every command that trains or works.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "info, or debug for a log line per step (on stderr).")
    var logLevel: Output.Level = .info

    var output: Output { .standard(level: logLevel) }
}

extension Output.Level: ExpressibleByArgument {}

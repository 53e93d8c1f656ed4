import ArgumentParser
import Training

/// What dptrain says and how, for every command that trains or works.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "info, or debug for a log line per step (on stderr).")
    var logLevel: Output.Level = .info
    @Flag(help: "Print only errors and the final result: no progress line, epoch lines or routine log lines.")
    var quiet = false
    @Option(name: .customLong("log-format"), help: "text, or json for one JSON object per log line (stderr).")
    var logFormat: Output.Format = .text
    /// Seconds between progress lines (default 0.2 on a terminal, 5 otherwise);
    /// hidden: tests set 0 to see every step without depending on time.
    @Option(name: .customLong("progress-interval"), help: .hidden)
    var progressInterval: Double?

    var output: Output {
        get throws {
            guard !(quiet && logLevel == .debug) else { throw UsageError("--quiet and --log-level debug contradict each other") }
            guard progressInterval.map({ $0 >= 0 && $0.isFinite }) ?? true else {
                throw UsageError("--progress-interval: must be a number of seconds >= 0")
            }
            return .standard(level: logLevel, quiet: quiet, format: logFormat, progressInterval: progressInterval)
        }
    }
}

extension Output.Level: ExpressibleByArgument {}
extension Output.Format: ExpressibleByArgument {}

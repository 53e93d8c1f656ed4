import ArgumentParser
import Cluster
import Training
import Datasets
import Foundation
import Images
import MLP
import Report
import Wire

/// DESIGN.md's exit statuses: 0 done, 2 bad usage or bad input (one line
/// saying what and where), 1 anything else, 128+N after signal N.
enum ExitStatus {
    static func report(_ error: Error) -> Int32 {
        if let exit = error as? ExitCode { return exit.rawValue }
        let code = DPTrain.exitCode(for: error)
        if code == .success {
            print(DPTrain.fullMessage(for: error))  // --help, --version
            return 0
        }
        if code == .validationFailure {
            say("\(DPTrain.message(for: error)) (see 'dptrain help')")
            return 2
        }
        say("\(error)")
        return isBadInput(error) ? 2 : 1
    }

    static func say(_ line: String) {
        let text = jsonLog ? LogRecord.line("dptrain: \(line)", level: "error") : "dptrain: \(line)"
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// --log-format json, read from the arguments themselves: the command's
    /// last line may come before (or instead of) its parsed options.
    private static var jsonLog: Bool {
        let arguments = CommandLine.arguments
        return arguments.contains("--log-format=json")
            || zip(arguments, arguments.dropFirst()).contains { $0 == "--log-format" && $1 == "json" }
    }

    /// Errors that come from what the user gave us: flags, data files, model
    /// and checkpoint files. Everything else (network, disk full, divergence)
    /// is a failure of the run, exit 1.
    static func isBadInput(_ error: Error) -> Bool {
        switch error {
        case is DatasetError, is ArchitectureError, is BatchPlanError,
             is SafetensorsError, is DataShapeError, is RunDirectoryError, is UsageError, is ScheduleError,
             is CheckpointError, is UnknownPreset, is LaunchEnvironmentError, is SlurmNodeList.Malformed, is CurveKeyError,
             is ImageError, is ReportError:
            return true
        case ClusterError.cannotListen:
            return true
        default:
            return false
        }
    }
}

/// A flag combination the parser cannot see is wrong.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

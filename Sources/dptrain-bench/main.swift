import Foundation
import MLP

BLASKernelChoice.pinKernelsByReexecuting()

// dptrain-bench MODE: each mode prints one JSON object on one line on
// stdout; progress goes to stderr. The *-peer modes are the far ends that
// `transfer` and `allreduce` start as separate processes of this executable.
let usage = """
    usage: dptrain-bench compute | transfer | allreduce
           dptrain-bench transfer-peer ENDPOINT BYTES | allreduce-peer ENDPOINT INDEX
    """

let arguments = Array(CommandLine.arguments.dropFirst())

func argument(_ index: Int) -> String {
    guard index < arguments.count else {
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(2)
    }
    return arguments[index]
}

do {
    switch arguments.first {
    case "compute": ComputeBenchmark.run()
    case "transfer": try TransferBenchmark.run()
    case "transfer-peer": try TransferBenchmark.runPeer(endpoint: argument(1), bytes: Int(argument(2)) ?? 0)
    case "allreduce": try AllReduceBenchmark.run()
    case "allreduce-peer": try AllReduceBenchmark.runPeer(endpoint: argument(1), index: Int(argument(2)) ?? 0)
    default:
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(2)
    }
} catch {
    progress("dptrain-bench: \(error)")
    exit(1)
}

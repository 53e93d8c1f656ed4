/// `dptrain-bench`: the benchmark modes scripts/bench.sh runs, each printing its figures.
import Foundation
import MLP

BLASKernelChoice.pinKernelsByReexecuting()

// dptrain-bench MODE: each mode prints one JSON object on one line on
// stdout; progress goes to stderr. The *-peer modes are the far ends that
// `transfer` and `allreduce` start as separate processes of this executable;
// `allreduce` measures the central collective, then the ring.
let usage = """
    usage: dptrain-bench compute | transfer | allreduce | fuzz [CASES] [SEED]
           dptrain-bench transfer-peer ENDPOINT BYTES | central-peer ENDPOINT INDEX
                       | ring-peer ENDPOINT RANK FOLDER
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
    case "allreduce":
        let central = try CentralAllReduceBenchmark.run()
        let ring = try RingAllReduceBenchmark.run()
        print(String(format: "{\"allreduce_ms_central\": %.4f, \"allreduce_ms\": %.4f}", central, ring))
    case "fuzz":
        print(try FuzzBenchmark.run(
            cases: arguments.count > 1 ? Int(argument(1)) ?? 1_000_000 : 1_000_000,
            seed: arguments.count > 2 ? UInt64(argument(2)) ?? 1 : 1))
    case "central-peer": try CentralAllReduceBenchmark.runPeer(endpoint: argument(1), index: Int(argument(2)) ?? 0)
    case "ring-peer":
        try RingAllReduceBenchmark.runPeer(endpoint: argument(1), rank: Int(argument(2)) ?? 0, folder: argument(3))
    default:
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(2)
    }
} catch {
    progress("dptrain-bench: \(error)")
    exit(1)
}

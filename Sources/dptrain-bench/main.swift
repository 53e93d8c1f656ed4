import Foundation
import MLP

BLASKernelChoice.pinKernelsByReexecuting()

// dptrain-bench MODE: each mode prints one JSON object on one line on
// stdout; progress goes to stderr.
let usage = "usage: dptrain-bench compute"

switch CommandLine.arguments.dropFirst().first {
case "compute":
    ComputeBenchmark.run()
default:
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(2)
}

import Foundation
import Training
import Wire

/// `simulate --secure`: a key pair for the coordinator and one per worker,
/// made for one run and written into its private socket folder (removed with
/// it), so the CURVE path runs end to end on one machine.
struct EphemeralKeys {
    let coordinator: CoordinatorCurve
    /// Each worker's flags: its secret key file and the coordinator's public key.
    let workerArguments: [[String]]

    init(folder: String, workers: Int) throws {
        let coordinatorKeys = try CurveKeyPair.generate()
        var authorized = Set<CurveKey>()
        var arguments: [[String]] = []
        for index in 0..<workers {
            let keys = try CurveKeyPair.generate()
            let path = "\(folder)/worker-\(index + 1).key"
            try AtomicFile.write(Array((keys.secretKey.z85 + "\n").utf8), to: URL(fileURLWithPath: path), mode: 0o600)
            authorized.insert(keys.publicKey)
            // One argument: a Z85 key may start with "-".
            arguments.append(["--curve-secret-key", path, "--coordinator-key=\(coordinatorKeys.publicKey.z85)"])
        }
        coordinator = CoordinatorCurve(keys: coordinatorKeys, authorized: authorized)
        workerArguments = arguments
    }
}

import ArgumentParser
import Cluster

/// `launch`'s CURVE flags: those of `coordinator` and `worker` together,
/// each rank reading only what it uses. Each falls back to an environment
/// variable holding the key's text (LaunchKeys), which a Kubernetes Secret fills.
struct LaunchKeyOptions: ParsableArguments {
    @Option(name: .customLong("curve-secret-key"), help: "This task's CURVE secret key file (else DPTRAIN_CURVE_SECRET_KEY, the key's text).")
    var curveSecretKey: String?
    @Option(name: .customLong("authorized-keys"), help: "Rank 0: the workers' public keys, one a line (else DPTRAIN_AUTHORIZED_KEYS, the list's text).")
    var authorizedKeys: String?
    @Option(name: .customLong("coordinator-key"), help: "Workers: rank 0's public key, a .pub file or the key itself as --coordinator-key=KEY (else DPTRAIN_COORDINATOR_KEY, the key's text).")
    var coordinatorKey: String?

    func keys(environment: [String: String]) -> LaunchKeys {
        LaunchKeys(secretKeyFile: curveSecretKey, authorizedKeysFile: authorizedKeys, coordinatorKey: coordinatorKey,
                   environment: environment)
    }
}

import ArgumentParser
import Cluster
import Wire

/// The coordinator's CURVE flags, shared by coordinator and simulate.
struct CurveOptions: ParsableArguments {
    @Option(name: .customLong("curve-secret-key"), help: "The coordinator's CURVE secret key file (from dptrain keygen): encrypt and authenticate every worker connection; needs --authorized-keys.")
    var curveSecretKey: String?
    @Option(name: .customLong("authorized-keys"), help: "Workers' CURVE public keys allowed to join, one Z85 key a line ('#' comments allowed); every other key is refused in the handshake.")
    var authorizedKeys: String?

    func coordinatorCurve() throws -> CoordinatorCurve? {
        switch (curveSecretKey, authorizedKeys) {
        case (nil, nil): return nil
        case (let secret?, let authorized?):
            return CoordinatorCurve(keys: try CurveKeyFile.readSecret(secret), authorized: try CurveKeyFile.readAuthorized(authorized))
        case (nil, _): throw UsageError("--authorized-keys needs --curve-secret-key")
        case (_, nil): throw UsageError("--curve-secret-key needs --authorized-keys (the workers' public keys)")
        }
    }
}

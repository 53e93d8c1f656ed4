import Wire

/// CURVE keys for a launched task. Each comes from its flag (a key file, as
/// `coordinator` and `worker` take them) or, when the flag is not given,
/// from an environment variable holding the key's text, which is what a
/// Kubernetes Secret fills. Rank 0 uses its secret key and the workers'
/// public keys; a worker its secret key and the coordinator's public key.
/// Only what the rank uses is read, so one command with every key serves
/// every rank. A bad value is an error naming the flag or the variable;
/// the key text itself is never printed.
public struct LaunchKeys {
    public static let secretKeyVariable = "DPTRAIN_CURVE_SECRET_KEY"
    public static let authorizedKeysVariable = "DPTRAIN_AUTHORIZED_KEYS"
    public static let coordinatorKeyVariable = "DPTRAIN_COORDINATOR_KEY"

    private let secret: KeyInput
    private let authorized: KeyInput
    private let coordinator: KeyInput

    /// `coordinatorKey` is a public key file or the 40-character key itself, as for `worker`.
    public init(secretKeyFile: String?, authorizedKeysFile: String?, coordinatorKey: String?, environment: [String: String]) {
        secret = KeyInput(flag: "--curve-secret-key", variable: Self.secretKeyVariable, flagValue: secretKeyFile, environment)
        authorized = KeyInput(flag: "--authorized-keys", variable: Self.authorizedKeysVariable, flagValue: authorizedKeysFile, environment)
        coordinator = KeyInput(flag: "--coordinator-key", variable: Self.coordinatorKeyVariable, flagValue: coordinatorKey, environment)
    }

    /// Rank 0's CURVE, or nil for plaintext.
    public func coordinatorCurve() throws -> CoordinatorCurve? {
        guard try curveRequested(besides: [authorized, coordinator]) else { return nil }
        guard authorized.isGiven else { throw authorized.missing(beside: secret, "rank 0 needs the workers' public keys to let them in") }
        let keys = try authorized.authorizedKeys()
        guard !keys.isEmpty else { throw LaunchEnvironmentError(variable: authorized.name, problem: "holds no key: rank 0 would refuse every worker") }
        return CoordinatorCurve(keys: try secret.secretKeys(), authorized: keys)
    }

    /// A worker's CURVE, or nil for plaintext.
    public func workerCurve() throws -> WorkerCurve? {
        guard try curveRequested(besides: [coordinator, authorized]) else { return nil }
        guard coordinator.isGiven else { throw coordinator.missing(beside: secret, "a worker needs the coordinator's public key to pin it") }
        return WorkerCurve(keys: try secret.secretKeys(), coordinatorKey: try coordinator.publicKey())
    }

    /// Whether CURVE is on: a secret key was given. Any other key without one
    /// is a mistake, not a request for plaintext.
    private func curveRequested(besides others: [KeyInput]) throws -> Bool {
        if secret.isGiven { return true }
        if let other = others.first(where: \.isGiven) { throw secret.missing(beside: other, "CURVE needs this task's secret key") }
        return false
    }
}

/// One key input: its flag's value, or else its variable's text.
private struct KeyInput {
    let flag: String
    let variable: String
    let flagValue: String?
    let text: String?

    init(flag: String, variable: String, flagValue: String?, _ environment: [String: String]) {
        self.flag = flag
        self.variable = variable
        self.flagValue = flagValue
        text = flagValue == nil ? environment[variable] : nil
    }

    var isGiven: Bool { flagValue != nil || text != nil }
    /// What gave the value: the flag, or the variable.
    var name: String { flagValue == nil && text != nil ? variable : flag }

    /// This input is missing while `other` was given: named the way `other` was (flag or variable).
    func missing(beside other: KeyInput, _ why: String) -> LaunchEnvironmentError {
        LaunchEnvironmentError(variable: other.text != nil ? variable : flag, problem: "missing beside \(other.name): \(why)")
    }

    func secretKeys() throws -> CurveKeyPair {
        if let flagValue { return try CurveKeyFile.readSecret(flagValue) }
        return try CurveKeyPair(secretKey: CurveKeyFile.oneKey(text: text ?? "", source: variable))
    }

    func publicKey() throws -> CurveKey {
        if let flagValue { return try CurveKeyFile.readPublic(fileOrKey: flagValue) }
        return try CurveKeyFile.oneKey(text: text ?? "", source: variable)
    }

    func authorizedKeys() throws -> Set<CurveKey> {
        if let flagValue { return try CurveKeyFile.readAuthorized(flagValue) }
        return try CurveKeyFile.authorized(text: text ?? "", source: variable)
    }
}

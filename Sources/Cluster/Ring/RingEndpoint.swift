import Foundation

/// Where a worker takes its ring traffic. By default it sits beside the
/// coordinator: a Unix socket in the same folder when the coordinator is
/// reached over ipc://, loopback when it is on loopback, and every interface
/// otherwise, announced under this host's name.
public enum RingEndpoint {
    public static func listen(coordinator: String, requested: String?) -> String {
        if let requested { return requested }
        if coordinator.hasPrefix("ipc://") {
            let folder = (String(coordinator.dropFirst("ipc://".count)) as NSString).deletingLastPathComponent
            return "ipc://\(folder)/ring-\(getpid()).sock"
        }
        let host = coordinator.split(separator: "/").dropFirst().first.map { part in
            part.hasPrefix("[") ? String(part.prefix { $0 != "]" }.dropFirst()) : String(part.split(separator: ":").first ?? "")
        } ?? ""
        let loopback = host == "127.0.0.1" || host == "localhost" || host == "::1"
        return loopback ? "tcp://127.0.0.1:*" : "tcp://*:*"
    }

    /// What neighbours connect to: the bound endpoint, with a wildcard address
    /// replaced by this host's name.
    static func advertised(bound: String) -> String {
        for wildcard in ["tcp://0.0.0.0:", "tcp://[::]:"] where bound.hasPrefix(wildcard) {
            return "tcp://\(ProcessInfo.processInfo.hostName):" + bound.dropFirst(wildcard.count)
        }
        return bound
    }
}

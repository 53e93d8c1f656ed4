import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Several hosts on one machine, for tests: a network namespace per host,
/// each with one address on a private /24 (10.78.N.0/24), all joined by a
/// bridge in a namespace of its own. Nothing in the machine's own namespace
/// is touched: no routes, no addresses, no firewall rules, so the hosts
/// reach each other and nothing else.
///
///     let lab = try NetworkLab(hosts: ["coordinator", "worker-1"], for: self)
///     try lab.shape(rate: "200mbit", loss: 0.05)
///     let c = try lab.start(on: "coordinator", ["coordinator", "--listen", "tcp://\(lab.address("coordinator")):5555", ...])
///     try lab.cut("worker-1"); ...; try lab.restore("worker-1")
///
/// Each process runs with `ip netns exec`, under its host's own host name
/// (a UTS namespace) and with an /etc/hosts that maps every lab host name
/// (and any alias) to its lab address, as on a small cluster with DNS.
/// Everything the lab makes is removed by a teardown block of the test that
/// made it, also when the test fails: its processes (by pid), namespaces
/// (and with them their links, tc queues and iptables rules) and
/// /etc/netns folders. Leftovers of an earlier test process that died
/// before its teardown (names start with `dptlab-PID-`, PID no longer alive),
/// and any process still running in them, are removed when a new lab
/// starts. Needs root, iproute2 and iptables.
final class NetworkLab {
    struct Host {
        /// The lab name, also the host name its processes see.
        let name: String
        let namespace: String
        let address: String
        /// The bridge's end of its link (in the bridge namespace).
        let port: String
    }

    private(set) var hosts: [Host] = []
    let subnet: String
    private let prefix: String
    private let bridge: String
    private var namespaces: [String] = []
    private var processes: [DPTrain.Running] = []
    private var cutHosts: Set<String> = []

    private static let owner = "dptlab-"
    private nonisolated(unsafe) static var made = 0

    /// Creates one host per name (address .1 for the first, .11 on for the
    /// others) and `aliases`: more names (e.g. a Service name) for a host.
    /// Skips the test without root, `ip` or `iptables`.
    init(hosts names: [String], aliases: [String: String] = [:], for test: XCTestCase) throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root") }
        for tool in ["ip", "tc", "iptables", "unshare"] where NetworkLab.tool(tool) == nil {
            throw XCTSkip("\(tool) is missing (scripts/setup.sh installs iproute2 and iptables)")
        }
        precondition(!names.isEmpty && names.count <= 200 && Set(names).count == names.count, "1...200 distinct host names")
        NetworkLab.removeLeftovers()
        NetworkLab.made += 1
        prefix = "\(NetworkLab.owner)\(getpid())-\(NetworkLab.made)"
        // Separate labs never share a namespace, so they could share addresses;
        // a distinct third octet still keeps their captures and logs apart.
        let octet = (Int(getpid()) &+ NetworkLab.made) % 254 + 1
        subnet = "10.78.\(octet).0/24"
        bridge = "\(prefix)-net"
        test.addTeardownBlock { [self] in tearDown() }

        try addNamespace(bridge)
        try NetworkLab.command("ip", "-n", bridge, "link", "add", "br0", "type", "bridge")
        try NetworkLab.command("ip", "-n", bridge, "link", "set", "br0", "up")
        for (index, name) in names.enumerated() {
            let host = Host(name: name, namespace: "\(prefix)-h\(index)",
                            address: "10.78.\(octet).\(index == 0 ? 1 : 10 + index)", port: "p\(index)")
            try addNamespace(host.namespace)
            try NetworkLab.command("ip", "-n", bridge, "link", "add", host.port, "type", "veth", "peer", "name", "eth0",
                               "netns", host.namespace)
            try NetworkLab.command("ip", "-n", bridge, "link", "set", host.port, "master", "br0", "up")
            try NetworkLab.command("ip", "-n", host.namespace, "addr", "add", "\(host.address)/24", "dev", "eth0")
            try NetworkLab.command("ip", "-n", host.namespace, "link", "set", "eth0", "up")
            hosts.append(host)
        }
        // /etc/netns/NAMESPACE/hosts is bind-mounted over /etc/hosts by `ip netns exec`.
        var table = "127.0.0.1 localhost\n"
        for host in hosts { table += "\(host.address) \(host.name)\n" }
        for (alias, name) in aliases.sorted(by: { $0.key < $1.key }) { table += "\(address(name)) \(alias)\n" }
        for host in hosts {
            let folder = "/etc/netns/\(host.namespace)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(table.utf8).write(to: URL(fileURLWithPath: "\(folder)/hosts"))
        }
    }

    func host(_ name: String) -> Host {
        guard let host = hosts.first(where: { $0.name == name }) else { preconditionFailure("no lab host \(name)") }
        return host
    }

    func address(_ name: String) -> String { host(name).address }

    /// Starts `dptrain arguments` on host `name`, stopped (SIGKILL, by pid)
    /// at teardown if still running. The pid is dptrain's own: `ip netns
    /// exec`, `unshare` and the shell that sets the host name each exec the next.
    func start(on name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> DPTrain.Running {
        let host = host(name)
        let running = try DPTrain.start(arguments, environment: environment, launcher: [
            NetworkLab.tool("ip")!, "netns", "exec", host.namespace,
            NetworkLab.tool("unshare")!, "--uts", "/bin/sh", "-c", "hostname \"$0\" && exec \"$@\"", host.name,
        ])
        processes.append(running)
        return running
    }

    /// Limits every link to `rate` (tc's units: 200mbit, 1gbit) in both
    /// directions with tbf, and drops each packet arriving at a host with
    /// probability `loss` (an iptables statistic match), so every hop loses
    /// about that share in each direction.
    func shape(rate: String, loss: Double = 0) throws {
        for host in hosts {
            for (namespace, device) in [(host.namespace, "eth0"), (bridge, host.port)] {
                // A burst of 64 KiB (one GSO segment) lets tbf shape at the rate it is given.
                try NetworkLab.command("tc", "-n", namespace, "qdisc", "replace", "dev", device, "root", "tbf",
                                   "rate", rate, "burst", "65536", "latency", "50ms")
            }
            try iptables(host, "-F", "INPUT")
            if loss > 0 {
                try iptables(host, "-A", "INPUT", "-m", "statistic", "--mode", "random",
                             "--probability", String(loss), "-j", "DROP")
            }
        }
    }

    /// Cuts host `name` off: nothing it sends arrives anywhere and nothing
    /// reaches it (DROP rules at the receiving ends, so senders see silence,
    /// as on a pulled cable, rather than an error).
    func cut(_ name: String) throws {
        let victim = host(name)
        precondition(!cutHosts.contains(name), "\(name) is already cut off")
        try iptables(victim, "-I", "INPUT", "1", "-i", "eth0", "-j", "DROP")
        for other in hosts where other.name != name {
            try iptables(other, "-I", "INPUT", "1", "-s", victim.address, "-j", "DROP")
        }
        cutHosts.insert(name)
    }

    /// Undoes `cut`.
    func restore(_ name: String) throws {
        let victim = host(name)
        precondition(cutHosts.contains(name), "\(name) is not cut off")
        try iptables(victim, "-D", "INPUT", "-i", "eth0", "-j", "DROP")
        for other in hosts where other.name != name {
            try iptables(other, "-D", "INPUT", "-s", victim.address, "-j", "DROP")
        }
        cutHosts.remove(name)
    }

    /// Packets the lab's DROP rules (loss and cuts) have dropped so far, on all hosts.
    func droppedPackets() throws -> Int {
        try hosts.reduce(0) { total, host in
            let listing = try NetworkLab.command("ip", "netns", "exec", host.namespace, NetworkLab.tool("iptables")!,
                                                 "-w", "-L", "INPUT", "-v", "-x", "-n")
            // Rule lines start with the packet count: "   12   3456 DROP ...".
            return total + listing.split(separator: "\n").filter { $0.contains("DROP") }
                .compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }.reduce(0, +)
        }
    }

    /// Stops the lab's processes and removes everything it made; run by the
    /// teardown block, safe to call twice.
    func tearDown() {
        for running in processes where running.process.isRunning {
            kill(running.pid, SIGKILL)
            running.process.waitUntilExit()
        }
        processes.removeAll()
        // Deleting a namespace deletes its veth ends (and so their peers), qdiscs and rules.
        for namespace in namespaces.reversed() {
            _ = try? NetworkLab.command("ip", "netns", "delete", namespace)
            try? FileManager.default.removeItem(atPath: "/etc/netns/\(namespace)")
        }
        namespaces.removeAll()
    }

    // MARK: - Helpers

    private func addNamespace(_ namespace: String) throws {
        try NetworkLab.command("ip", "netns", "add", namespace)
        namespaces.append(namespace)
        try NetworkLab.command("ip", "-n", namespace, "link", "set", "lo", "up")
    }

    private func iptables(_ host: Host, _ arguments: String...) throws {
        // -w: wait for the xtables lock rather than fail when another lab holds it.
        try NetworkLab.command(["ip", "netns", "exec", host.namespace, NetworkLab.tool("iptables")!, "-w"] + arguments)
    }

    /// Namespaces and /etc/netns folders named for a test process that is gone.
    private static func removeLeftovers() {
        func stale(_ name: String) -> Bool {
            guard name.hasPrefix(owner), let pid = Int32(name.dropFirst(owner.count).prefix { $0 != "-" }) else { return false }
            return !isAlive(pid)
        }
        let listed = (try? command("ip", "netns", "list")) ?? ""
        for namespace in listed.split(separator: "\n").compactMap({ $0.split(separator: " ").first.map(String.init) })
        where stale(namespace) {
            // Only processes inside a namespace of ours (a crashed run's), by pid.
            for pid in ((try? command("ip", "netns", "pids", namespace)) ?? "").split(separator: "\n").compactMap({ Int32($0) }) {
                kill(pid, SIGKILL)
            }
            _ = try? command("ip", "netns", "delete", namespace)
        }
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? [] where stale(folder) {
            try? FileManager.default.removeItem(atPath: "/etc/netns/\(folder)")
        }
    }

    static func tool(_ name: String) -> String? {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a set-up command (a tool's name, or a path); fails with the command and its output.
    @discardableResult
    static func command(_ arguments: String...) throws -> String { try command(arguments) }

    @discardableResult
    static func command(_ arguments: [String]) throws -> String {
        let process = Process()
        let first = arguments[0].hasPrefix("/") ? arguments[0] : tool(arguments[0]) ?? arguments[0]
        process.executableURL = URL(fileURLWithPath: first)
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LabError(description: "'\(arguments.joined(separator: " "))' exited \(process.terminationStatus): \(output)")
        }
        return output
    }

    struct LabError: Error, CustomStringConvertible { let description: String }
}

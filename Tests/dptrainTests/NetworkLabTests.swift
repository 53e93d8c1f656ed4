import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// NetworkLab itself: what it builds, and that it leaves nothing behind.
final class NetworkLabTests: XCTestCase {
    /// The lab leaves nothing behind: no namespace, no /etc/netns folder, no
    /// process, and the machine's own firewall rules as they were.
    func testTheLabRemovesEverythingItMade() throws {
        let rulesBefore = try hostRules()
        let lab = try NetworkLab(hosts: ["coordinator", "worker-1"], aliases: ["service": "coordinator"], for: self)
        try lab.shape(rate: "100mbit", loss: 0.05)
        try lab.cut("worker-1")
        let namespaces = lab.hosts.map(\.namespace)
        XCTAssertEqual(Set(namespaces).count, 2)
        for namespace in namespaces {
            XCTAssertTrue(try listedNamespaces().contains(namespace))
            let hosts = try String(contentsOfFile: "/etc/netns/\(namespace)/hosts", encoding: .utf8)
            XCTAssertTrue(hosts.contains("\(lab.address("coordinator")) service"), hosts)
        }
        // Waits for a coordinator that never comes (10 s): the teardown must end it.
        let worker = try lab.start(on: "worker-1", ["worker", "--coordinator", "tcp://service:5555"])
        XCTAssertTrue(isAlive(worker.pid), worker.stderr)
        XCTAssertEqual(try rulesBefore, try hostRules(), "the lab changed the machine's own iptables rules")

        lab.tearDown()
        XCTAssertFalse(isAlive(worker.pid), "the lab's process outlived it")
        let left = try listedNamespaces()
        for namespace in namespaces {
            XCTAssertFalse(left.contains(namespace), "namespace \(namespace) is still there")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/etc/netns/\(namespace)"), "/etc/netns/\(namespace) is still there")
        }
        XCTAssertFalse(left.contains { $0.hasPrefix("dptlab-\(getpid())-") }, "left behind: \(left)")
    }

    /// A namespace and an /etc/netns folder named for a test process that
    /// died before its teardown are removed when the next lab starts.
    func testLeftoversOfADeadTestProcessAreRemoved() throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root") }
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let stale = "dptlab-\(finished.processIdentifier)-1-net"
        XCTAssertFalse(isAlive(finished.processIdentifier))
        try NetworkLab.command("ip", "netns", "add", stale)
        addTeardownBlock { _ = try? NetworkLab.command("ip", "netns", "delete", stale) }
        try FileManager.default.createDirectory(atPath: "/etc/netns/\(stale)", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: "/etc/netns/\(stale)") }
        // A process the dead run left running in its namespace.
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: try XCTUnwrap(NetworkLab.tool("ip")))
        orphan.arguments = ["netns", "exec", stale, "sleep", "60"]
        try orphan.run()
        addTeardownBlock { if orphan.isRunning { kill(orphan.processIdentifier, SIGKILL) } }
        waitUntil("the orphan to enter its namespace") {
            ((try? NetworkLab.command("ip", "netns", "pids", stale)) ?? "").contains(String(orphan.processIdentifier))
        }

        _ = try NetworkLab(hosts: ["solo"], for: self)
        orphan.waitUntilExit()
        XCTAssertEqual(orphan.terminationReason, .uncaughtSignal, "the orphan was not killed")
        XCTAssertFalse(try listedNamespaces().contains(stale), "the stale namespace is still there")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/etc/netns/\(stale)"), "the stale /etc/netns folder is still there")
    }

    private func listedNamespaces() throws -> [String] {
        try NetworkLab.command("ip", "netns", "list").split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    private func hostRules() throws -> String { try NetworkLab.command("iptables", "-w", "-S") }
}

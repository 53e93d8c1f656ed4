import Foundation

/// What makes two workers able to share memory: the same host name, the
/// same boot of the same kernel, and the same /dev/shm. Pods of one node
/// differ in host name (and /dev/shm), network-namespace "hosts" in their
/// UTS name, so they talk over sockets as separate machines do.
public enum HostIdentity {
    public static func current() -> String {
        let bootID = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown-boot"
        var status = stat()
        let device = stat(SharedMemoryFolder.root, &status) == 0 ? "\(status.st_dev)" : "no-shm"
        return "\(hostName()) \(bootID) \(device) uid \(geteuid())"
    }

    /// The kernel's (UTS) host name, without a name lookup.
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return String(cString: buffer)
    }
}

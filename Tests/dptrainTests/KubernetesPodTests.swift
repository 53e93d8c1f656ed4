import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The pods of cluster/k8s's Indexed Job, reproduced for real processes:
/// one network namespace per pod (NetworkLab), each process under its pod's
/// host name `dptrain-i`, with `dptrain-i.dptrain` resolving to that pod's
/// address (what the headless Service gives), started with the rendered
/// container's own shell command and environment: JOB_COMPLETION_INDEX=i as
/// the Job controller sets it, POD_IP and JOB_NAME as the downward API
/// fills them, the keys as the Secret does, a shared folder for the claim.
/// A pod that fails is started again with the same command, as the kubelet
/// does under `restartPolicy: OnFailure`. Each run is byte-identical to `train`.
final class KubernetesPodTests: XCTestCase {
    func testTheIndexedJobsPodsTrainToTrainsBytes() throws {
        let job = try RenderedJob()
        let pods = try PodLab(job, epochs: 2, for: self)
        XCTAssertTrue(pods.superviseUntilRankZeroEnds(), pods.log(0))
        let results = try pods.finish()
        for (index, result) in results.enumerated() {
            XCTAssertEqual(result.status, 0, "pod \(pods.names[index]): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("launch: kubernetes rank \(index) of \(job.completions)"), result.stderr)
        }
        XCTAssertTrue(pods.log(0).contains("CURVE on"), pods.log(0))
        for (index, pod) in pods.names.enumerated().dropFirst() {
            // Each worker ran under its pod's host name and reached rank 0 by its name under the Service.
            XCTAssertTrue(pods.log(0).contains("(\(pod):"), "no worker named \(pod) joined: \(pods.log(0))")
            XCTAssertTrue(pods.log(index).contains("joined tcp://\(pods.names[0]).\(job.subdomain):29500"), pods.log(index))
        }
        XCTAssertEqual(pods.restarts, 0, pods.log(0))
        XCTAssertEqual(fileBytes(pods.run.appendingPathComponent("model.safetensors")), try pods.reference(), pods.log(0))
    }

    /// Rank 0's pod killed (SIGKILL) in the middle of epoch 2: started again
    /// with the same command, it finds the checkpoint on the shared volume
    /// and resumes; the workers join it again (restarted if they gave up).
    func testAPodRestartedAfterAKillResumesToTrainsBytes() throws {
        let job = try RenderedJob()
        let pods = try PodLab(job, epochs: FailureRun.epochs, extraFlags: FailureRun.stepLog, for: self)
        let step = FailureRun.midEpoch(2)
        let reached = pods.superviseUntil("rank 0 to report step \(step)") { pods.log(0).contains("step \(step) done") }
        XCTAssertTrue(reached, pods.log(0))
        XCTAssertNil(fileBytes(pods.run.appendingPathComponent("model.safetensors")), "the run ended before the kill")
        pods.current[0].signal(SIGKILL)
        XCTAssertTrue(pods.superviseUntilRankZeroEnds(), pods.log(0))
        let results = try pods.finish()
        for (index, result) in results.enumerated() { XCTAssertEqual(result.status, 0, "pod \(pods.names[index]): \(result.stderr)") }
        XCTAssertGreaterThanOrEqual(pods.restarts, 1)
        XCTAssertGreaterThan(resumedStep(of: pods.run.path, in: pods.log(0)) ?? 0, 0, "rank 0 did not resume: \(pods.log(0))")
        XCTAssertEqual(fileBytes(pods.run.appendingPathComponent("model.safetensors")), try pods.reference(), pods.log(0))
    }
}

/// cluster/k8s rendered, and the parts of its Job a pod is made of.
private struct RenderedJob {
    let name: String
    let subdomain: String
    let completions: Int
    let container: [String: Any]
    let script: String
    let mountPath: String
    let backoffLimit: Int

    init() throws {
        let objects = try KubernetesManifests.render().objects
        let job = try KubernetesManifests.object(objects, kind: "Job", name: "dptrain")
        let service = try KubernetesManifests.object(objects, kind: "Service", name: "dptrain")
        name = try XCTUnwrap(job[path: "metadata", "name"] as? String)
        subdomain = try XCTUnwrap(job[path: "spec", "template", "spec", "subdomain"] as? String)
        XCTAssertEqual(subdomain, service[path: "metadata", "name"] as? String, "the pods' subdomain is not the Service")
        XCTAssertEqual(job[path: "spec", "template", "spec", "restartPolicy"] as? String, "OnFailure", "the test restarts pods in place")
        completions = try XCTUnwrap(job[path: "spec", "completions"] as? Int)
        backoffLimit = job[path: "spec", "backoffLimit"] as? Int ?? 6
        container = try XCTUnwrap((job[path: "spec", "template", "spec", "containers"] as? [[String: Any]])?.first)
        let command = try XCTUnwrap(container["command"] as? [String])
        XCTAssertEqual(Array(command.prefix(2)), ["/bin/sh", "-c"], "the test runs the container's shell command as it is")
        script = command.count > 2 ? command[2] : ""
        mountPath = try XCTUnwrap((container["volumeMounts"] as? [[String: Any]])?.first?["mountPath"] as? String)
    }

    /// The container's variables for pod `index`, resolved as the kubelet
    /// does: literal values with $(NAME) of earlier ones expanded, fieldRefs
    /// from the pod, secretKeyRefs from the Secret; and JOB_COMPLETION_INDEX,
    /// which the Job controller adds. Paths under the volume's mount point
    /// move to the folder standing in for it.
    func environment(index: Int, podIP: String, secret: [String: String], volume: String) throws -> [String: String] {
        let env = PodEnvironment(container: container)
        var resolved = ["JOB_COMPLETION_INDEX": String(index)]
        for variable in env.order {
            if var value = env.literal(variable) {
                for (known, knownValue) in resolved { value = value.replacingOccurrences(of: "$(\(known))", with: knownValue) }
                if value == mountPath || value.hasPrefix(mountPath + "/") { value = volume + value.dropFirst(mountPath.count) }
                resolved[variable] = value
            } else if let field = env.fieldPath(variable) {
                switch field {
                case "metadata.labels['batch.kubernetes.io/job-name']": resolved[variable] = name
                case "status.podIP": resolved[variable] = podIP
                default: throw ManifestError("\(variable): the test does not know the pod field \(field)")
                }
            } else if let reference = env.secretKey(variable) {
                resolved[variable] = try XCTUnwrap(secret[reference.key], "\(variable): the Secret has no \(reference.key)")
            } else {
                throw ManifestError("\(variable): neither a value, a pod field nor a Secret key")
            }
        }
        return resolved
    }
}

/// One pod per index of a RenderedJob in a NetworkLab, and the kubelet's
/// part: start each with the Job's command, start a failed one again.
private final class PodLab {
    let job: RenderedJob
    let lab: NetworkLab
    let names: [String]
    /// The folder standing in for the claim, and the run folder in it.
    let volume: URL
    var run: URL { volume.appendingPathComponent(job.name) }
    private(set) var current: [DPTrain.Running] = []
    private(set) var earlier: [[DPTrain.Running]]
    private(set) var restarts = 0
    private let test: XCTestCase
    private let flags: [String]
    private let epochs: Int
    private var environments: [[String: String]] = []

    init(_ job: RenderedJob, epochs: Int, extraFlags: [String] = [], for test: XCTestCase) throws {
        self.job = job
        self.test = test
        self.epochs = epochs
        names = (0..<job.completions).map { "\(job.name)-\($0)" }
        earlier = Array(repeating: [], count: job.completions)
        lab = try NetworkLab(hosts: names, aliases: Dictionary(uniqueKeysWithValues: names.map { ("\($0).\(job.subdomain)", $0) }), for: test)
        let volume = try temporaryFolder()
        self.volume = volume
        // The Secret, filled as cluster/README.md says: one key pair for the job.
        let keys = try temporaryFolder()
        XCTAssertEqual(try DPTrain.run(["keygen", "--out", keys.appendingPathComponent("job").path]).status, 0)
        let key = { (file: String) in try String(contentsOf: keys.appendingPathComponent(file), encoding: .utf8) }
        let secret = ["curve-secret-key": try key("job.key"), "authorized-keys": try key("job.pub"), "coordinator-key": try key("job.pub")]
        // The image: `dptrain` on the PATH.
        let image = try temporaryFolder()
        try FileManager.default.createSymbolicLink(at: image.appendingPathComponent("dptrain"), withDestinationURL: DPTrain.executable)
        // The training flags take the place of the container's args (the ring exercises the pods' addresses).
        flags = Array(FailureRun.arguments("launch", out: volume, epochs: epochs, extra: extraFlags + ["--collective", "ring"]).dropFirst())
            .filter { $0 != "--out" && $0 != volume.path }
        for (index, name) in names.enumerated() {
            var environment = try job.environment(index: index, podIP: lab.address(name), secret: secret, volume: volume.path)
            environment["PATH"] = image.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            environments.append(environment)
            current.append(try start(index))
        }
    }

    /// The container's command in pod `index`'s namespace, under its host
    /// name: `/bin/sh -c SCRIPT` with the flags as the script's arguments
    /// ($0 is dptrain's path, unused). Every shell on the way execs the
    /// next, so the pid is dptrain's; killed at teardown if still running.
    private func start(_ index: Int) throws -> DPTrain.Running {
        let host = lab.host(names[index])
        let running = try DPTrain.start(flags, environment: environments[index], launcher: [
            NetworkLab.tool("ip")!, "netns", "exec", host.namespace,
            NetworkLab.tool("unshare")!, "--uts", "/bin/sh", "-c", "hostname \"$0\" && exec \"$@\"", host.name,
            "/bin/sh", "-c", job.script,
        ])
        test.addTeardownBlock {
            if running.process.isRunning {
                kill(running.pid, SIGKILL)
                running.process.waitUntilExit()
            }
        }
        return running
    }

    /// Everything pod `index` has written to stderr, over all its starts.
    func log(_ index: Int) -> String { (earlier[index] + [current[index]]).map(\.stderr).joined(separator: "\n") }

    /// Starts again every pod that failed (restartPolicy: OnFailure), up to the Job's backoffLimit.
    private func restartFailed() {
        for index in names.indices {
            let process = current[index].process
            guard !process.isRunning, process.terminationStatus != 0 || process.terminationReason == .uncaughtSignal,
                  restarts < job.backoffLimit, let again = try? start(index) else { continue }
            earlier[index].append(current[index])
            current[index] = again
            restarts += 1
        }
    }

    /// Keeps the pods running until `condition`; false after the deadline.
    func superviseUntil(_ what: String, timeout: Double = 300, _ condition: () -> Bool) -> Bool {
        test.waitUntil("\(what): \(log(0))", timeout: timeout) {
            restartFailed()
            return condition()
        }
    }

    /// The Job's end: rank 0's pod succeeds (its success policy).
    func superviseUntilRankZeroEnds() -> Bool {
        superviseUntil("rank 0 to succeed") {
            let process = current[0].process
            return !process.isRunning && process.terminationStatus == 0 && process.terminationReason == .exit
        }
    }

    /// Every pod's last run, once each has ended (rank 0 told the workers to stop).
    func finish() throws -> [DPTrain.Result] { try current.map { try $0.wait(timeout: 60) } }

    /// `train` with the same flags and the Job's BLAS kernels: the bits depend on them.
    func reference() throws -> Data {
        let out = try temporaryFolder()
        let coreType = environments[0]["OPENBLAS_CORETYPE"]
        let result = try DPTrain.start(FailureRun.arguments("train", out: out, epochs: epochs),
                                       environment: coreType.map { ["OPENBLAS_CORETYPE": $0] } ?? [:]).wait(timeout: 300)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(fileBytes(out.appendingPathComponent("model.safetensors")), result.stderr)
    }
}

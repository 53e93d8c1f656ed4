import Foundation
import XCTest

/// cluster/k8s: `kubectl kustomize` renders it, the result validates offline
/// against Kubernetes' own schemas (kubernetes-validate, strict), and what
/// the pods will see is what `dptrain launch` reads: the world size in all
/// three places, rank 0 reachable under the name the others are given, the
/// keys where launch looks for them.
final class KubernetesManifestTests: XCTestCase {
    /// The Kubernetes version the manifests are checked against: the oldest
    /// with the Job success policy on by default.
    static let kubernetesVersion = "1.31.0"

    func testTheManifestsRenderAndValidateAgainstKubernetesSchemas() throws {
        let rendered = try KubernetesManifests.render()
        let file = try temporaryFolder().appendingPathComponent("rendered.yaml")
        try rendered.yaml.write(to: file, atomically: true, encoding: .utf8)
        let validate = try KubernetesManifests.venvTool("kubernetes-validate")
        let checked = try ToolRun.run(validate, ["--strict", "-k", Self.kubernetesVersion, file.path])
        XCTAssertEqual(checked.status, 0, checked.stdout + checked.stderr)
        for resource in ["service/dptrain", "job/dptrain", "secret/dptrain-keys", "persistentvolumeclaim/dptrain-runs"] {
            XCTAssertTrue((checked.stdout + checked.stderr).contains("passed for resource \(resource)"), checked.stdout + checked.stderr)
        }
        // The validator does reject a manifest Kubernetes would: a number where a string belongs.
        let broken = file.deletingLastPathComponent().appendingPathComponent("broken.yaml")
        try rendered.yaml.replacingOccurrences(of: "value: \"29500\"", with: "value: 29500").write(to: broken, atomically: true, encoding: .utf8)
        let refused = try ToolRun.run(validate, ["--strict", "-k", Self.kubernetesVersion, broken.path])
        XCTAssertNotEqual(refused.status, 0, refused.stdout + refused.stderr)
    }

    func testThePodsEnvironmentIsWhatLaunchReads() throws {
        let objects = try KubernetesManifests.render().objects
        let job = try KubernetesManifests.object(objects, kind: "Job", name: "dptrain")
        let service = try KubernetesManifests.object(objects, kind: "Service", name: "dptrain")
        let pod = try XCTUnwrap(job[path: "spec", "template", "spec"] as? [String: Any])
        let container = try XCTUnwrap((pod["containers"] as? [[String: Any]])?.first { $0["name"] as? String == "dptrain" })
        let env = PodEnvironment(container: container)

        XCTAssertEqual(job[path: "spec", "completionMode"] as? String, "Indexed")
        let completions = try XCTUnwrap(job[path: "spec", "completions"] as? Int)
        XCTAssertEqual(job[path: "spec", "parallelism"] as? Int, completions, "every task must run at once")
        XCTAssertEqual(env.literal("WORLD_SIZE"), String(completions), "WORLD_SIZE must be the Job's completions")

        // Pod i is dptrain-i, reachable as dptrain-i.SUBDOMAIN through the headless Service of that name.
        XCTAssertEqual(service[path: "spec", "clusterIP"] as? String, "None")
        XCTAssertEqual(pod["subdomain"] as? String, "dptrain")
        XCTAssertEqual(service[path: "spec", "selector"] as? [String: String], ["batch.kubernetes.io/job-name": "dptrain"])
        XCTAssertEqual(env.literal("MASTER_ADDR"), "dptrain-0.dptrain", "rank 0's host name under the Service")
        let port = try XCTUnwrap(env.literal("MASTER_PORT"))
        let servicePorts = (service[path: "spec", "ports"] as? [[String: Any]])?.compactMap { $0["port"] as? Int } ?? []
        let containerPorts = (container["ports"] as? [[String: Any]])?.compactMap { $0["containerPort"] as? Int } ?? []
        XCTAssertTrue(servicePorts.contains(Int(port) ?? -1) && containerPorts.contains(Int(port) ?? -1),
                      "MASTER_PORT \(port) is not the Service's \(servicePorts) and the container's \(containerPorts)")
        XCTAssertEqual(env.fieldPath("JOB_NAME"), "metadata.labels['batch.kubernetes.io/job-name']")
        XCTAssertEqual(env.fieldPath("POD_IP"), "status.podIP")
        XCTAssertNil(env.variables["JOB_COMPLETION_INDEX"], "Kubernetes sets JOB_COMPLETION_INDEX itself")

        // The command is dptrain launch in the run folder on the shared volume.
        let command = ((container["command"] as? [String]) ?? []).joined(separator: " ")
        XCTAssertTrue(command.contains("exec dptrain launch --out \"$DPTRAIN_RUN\""), command)
        XCTAssertTrue(command.contains("--resume \"$DPTRAIN_RUN\""), "a restarted rank 0 must resume: \(command)")
        let mount = try XCTUnwrap((container["volumeMounts"] as? [[String: Any]])?.first)
        XCTAssertTrue(env.literal("DPTRAIN_RUN")?.hasPrefix((mount["mountPath"] as? String ?? "?") + "/") == true)
        let volume = try XCTUnwrap((pod["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == mount["name"] as? String })
        let claimName = try XCTUnwrap(volume[path: "persistentVolumeClaim", "claimName"] as? String)
        let claim = try KubernetesManifests.object(objects, kind: "PersistentVolumeClaim", name: claimName)
        XCTAssertEqual(claim[path: "spec", "accessModes"] as? [String], ["ReadWriteMany"], "every pod mounts the run folder")

        // The keys come from the Secret, under the names launch reads (its --help lists them).
        let help = try DPTrain.run(["launch", "--help"], timeout: 60).stdout
        let secret = try KubernetesManifests.object(objects, kind: "Secret", name: "dptrain-keys")
        let entries = Set(((secret["stringData"] ?? secret["data"]) as? [String: Any] ?? [:]).keys)
        for variable in ["DPTRAIN_CURVE_SECRET_KEY", "DPTRAIN_AUTHORIZED_KEYS", "DPTRAIN_COORDINATOR_KEY"] {
            XCTAssertTrue(help.contains(variable), "launch --help does not mention \(variable)")
            let reference = try XCTUnwrap(env.secretKey(variable), "\(variable) is not taken from a Secret")
            XCTAssertEqual(reference.secret, "dptrain-keys")
            XCTAssertTrue(entries.contains(reference.key), "the Secret has no \(reference.key) for \(variable)")
        }
    }

    /// The world size is written once: completions, and kustomize copies it.
    func testChangingCompletionsChangesTheWholeWorldSize() throws {
        let copy = try temporaryFolder().appendingPathComponent("k8s")
        try FileManager.default.copyItem(at: KubernetesManifests.folder, to: copy)
        let jobFile = copy.appendingPathComponent("job.yaml")
        let text = try String(contentsOf: jobFile, encoding: .utf8)
        XCTAssertTrue(text.contains("  completions: 3\n"), "job.yaml no longer sets completions: 3")
        try text.replacingOccurrences(of: "  completions: 3\n", with: "  completions: 7\n").write(to: jobFile, atomically: true, encoding: .utf8)
        let job = try KubernetesManifests.object(KubernetesManifests.render(copy).objects, kind: "Job", name: "dptrain")
        XCTAssertEqual(job[path: "spec", "completions"] as? Int, 7)
        XCTAssertEqual(job[path: "spec", "parallelism"] as? Int, 7)
        let container = try XCTUnwrap((job[path: "spec", "template", "spec", "containers"] as? [[String: Any]])?.first)
        XCTAssertEqual(PodEnvironment(container: container).literal("WORLD_SIZE"), "7")
    }
}

/// A container's `env` list as rendered: literal values, fieldRefs and secretKeyRefs by name.
struct PodEnvironment {
    let variables: [String: [String: Any]]
    /// The names in the order given (a value may use $(NAME) of an earlier one).
    let order: [String]

    init(container: [String: Any]) {
        let list = container["env"] as? [[String: Any]] ?? []
        order = list.compactMap { $0["name"] as? String }
        variables = Dictionary(list.compactMap { entry in (entry["name"] as? String).map { ($0, entry) } }) { first, _ in first }
    }

    func literal(_ name: String) -> String? { variables[name]?["value"] as? String }
    func fieldPath(_ name: String) -> String? { variables[name]?[path: "valueFrom", "fieldRef", "fieldPath"] as? String }
    func secretKey(_ name: String) -> (secret: String, key: String)? {
        guard let reference = variables[name]?[path: "valueFrom", "secretKeyRef"] as? [String: Any],
              let secret = reference["name"] as? String, let key = reference["key"] as? String else { return nil }
        return (secret, key)
    }
}

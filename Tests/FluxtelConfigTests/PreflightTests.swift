import Foundation
import Testing

@testable import FluxtelConfig

/// `fluxtel validate --environment` catches what `run` would fail on here (issue 16, point 4): TLS files
/// that cannot be read, `kubernetes_sd` outside a cluster without `api_server`, checkpoint and queue
/// directories that cannot be written; each at the position of its key.
@Suite struct PreflightTests {
    let directory: String = {
        let path = NSTemporaryDirectory() + "fluxtel-preflight-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func problems(_ yaml: String, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try ConfigLoader.load(
                bytes: Array(yaml.utf8), fileName: "fluxtel.yaml", environment: environment,
                checkEnvironment: true)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// A file in the test's directory; its path.
    func writeFile(_ name: String, containing text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func unreadableTLSFilesAreNamedAtTheirKey() throws {
        let ca = try writeFile("ca.pem", containing: "not checked for content")
        let yaml = """
            receivers:
              otlp:
                endpoint: 127.0.0.1:0
                tls: { cert_file: \(directory)/missing-cert.pem, key_file: \(directory) }
            exporters:
              otlp_http:
                endpoint: https://ingress.example.com
                tls:
                  ca_file: \(ca)
            """
        #expect(
            problems(yaml) == [
                "fluxtel.yaml:4:23: receivers.otlp.tls.cert_file: cannot read \(directory)/missing-cert.pem: No such file or directory",
                "fluxtel.yaml:4:\(23 + "\(directory)/missing-cert.pem, ".count + 10): receivers.otlp.tls.key_file: cannot read \(directory): it is a directory",
            ])
        // Without --environment the same file is valid: nothing on this machine is looked at.
        #expect(loadErrors(yaml).isEmpty)
    }

    @Test func kubernetesSDOutsideAClusterNeedsAPIServer() throws {
        let yaml = "receivers:\n  prometheus:\n    kubernetes_sd:\n      enabled: true\n"
        #expect(
            problems(yaml) == [
                "fluxtel.yaml:4:16: receivers.prometheus.kubernetes_sd.enabled: not in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set): run it in a pod, or set api_server"
            ])
        let token = try writeFile("token", containing: "t")
        let inCluster = yaml + "      token_path: \(token)\n      ca_path: \(directory)/no-ca.crt\n"
        #expect(
            problems(
                inCluster, environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]) == [
                    "fluxtel.yaml:6:16: receivers.prometheus.kubernetes_sd.ca_path: cannot read \(directory)/no-ca.crt: No such file or directory"
                ])
        #expect(problems(yaml + "      api_server: https://127.0.0.1:6443\n").isEmpty)
    }

    @Test func directoriesMustBeWritable() throws {
        let file = try writeFile("a-file", containing: "x")
        let yaml = """
            receivers:
              filelog:
                include: ["/var/log/pods/*/*/*.log"]
                checkpoint_dir: \(file)/checkpoints
            processors:
              queue:
                directory: /proc/fluxtel-queue
            """
        #expect(
            problems(yaml) == [
                "fluxtel.yaml:4:21: receivers.filelog.checkpoint_dir: cannot write to \(file)/checkpoints: \(file) is not a directory",
                "fluxtel.yaml:7:16: processors.queue.directory: cannot write to /proc/fluxtel-queue: /proc (where it would be created): No such file or directory",
            ])
        let fine = yaml.replacingOccurrences(of: "\(file)/checkpoints", with: "\(directory)/new/checkpoints")
            .replacingOccurrences(of: "/proc/fluxtel-queue", with: directory)
        #expect(problems(fine).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory + "/new"), "checking creates nothing")
        #expect(
            problems("receivers:\n  prometheus:\n    state_dir: \(file)/series\n") == [
                "fluxtel.yaml:3:16: receivers.prometheus.state_dir: cannot write to \(file)/series: \(file) is not a directory"
            ])
        let left = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            $0.hasPrefix(".fluxtel-preflight")
        }
        #expect(left.isEmpty, "the probe file is removed")
    }
}

import Testing

@testable import FluxtelConfig

/// The keys of issue 3: honor_labels, body_size_limit, metric_relabel_configs.
@Suite struct PrometheusConfigTests {
    @Test func defaults() throws {
        let config = try #require(load("receivers:\n  prometheus: {}\n")?.receivers.prometheus)
        #expect(config.honorLabels == false)
        #expect(config.bodySizeLimit == 16 << 20)
        #expect(config.metricRelabelConfigs.isEmpty)
    }

    @Test func readsEveryKey() throws {
        let yaml = """
            receivers:
              prometheus:
                honor_labels: true
                body_size_limit: 2MiB
                metric_relabel_configs:
                  - { action: drop, source_labels: [__name__], regex: "go_.*" }
                  - source_labels: [namespace, name]
                    separator: "/"
                    regex: "(.*)/(.*)"
                    target_label: object
                    replacement: "$1.$2"
                  - { action: labeldrop, regex: "pod|instance" }
            """
        let config = try #require(load(yaml)?.receivers.prometheus)
        #expect(config.honorLabels)
        #expect(config.bodySizeLimit == 2 << 20)
        #expect(config.metricRelabelConfigs.map(\.action) == [.drop, .replace, .labeldrop])
        #expect(config.metricRelabelConfigs[1].separator == "/")
        #expect(config.metricRelabelConfigs[1].targetLabel == "object")
        #expect(config.metricRelabelConfigs[1].replacement == "$1.$2")
    }

    @Test func errorsHaveLineAndColumn() {
        let cases: [(String, Int, Int, String)] = [
            ("receivers:\n  prometheus:\n    honor_labels: maybe\n", 3, 19, "true"),
            ("receivers:\n  prometheus:\n    body_size_limit: 12parsecs\n", 3, 22, "size"),
            ("receivers:\n  prometheus:\n    metric_relabel_configs:\n      - { action: explode }\n", 4, 19, "replace"),
            (
                "receivers:\n  prometheus:\n    metric_relabel_configs:\n      - { action: drop, source_labels: [a], regex: \"(\" }\n",
                4, 52, "invalid regex"
            ),
            (
                "receivers:\n  prometheus:\n    metric_relabel_configs:\n      - { source_labels: [a] }\n", 4, 9,
                "target_label"
            ),
            (
                "receivers:\n  prometheus:\n    metric_relabel_configs:\n      - { action: keep }\n", 4, 9,
                "source_labels"
            ),
            (
                "receivers:\n  prometheus:\n    metric_relabel_configs:\n      - { actoin: keep, target_label: x }\n",
                4, 11, "unknown key"
            ),
            ("receivers:\n  prometheus:\n    metric_relabel_configs: drop\n", 3, 29, "sequence"),
        ]
        expectOneError(cases)
    }
}

/// `receivers.prometheus.state_dir` and `processors.max_age` (issue 16, points 1 and 5).
@Suite struct StateDirAndMaxAgeConfigTests {
    @Test func defaultsAndKeys() throws {
        let defaults = try #require(load("receivers:\n  prometheus: {}\n"))
        #expect(defaults.receivers.prometheus?.stateDirectory == "")
        #expect(defaults.processors.maxAge == .seconds(6 * 3600))
        let set = try #require(
            load("receivers:\n  prometheus: { state_dir: /var/lib/fluxtel }\nprocessors:\n  max_age: 90m\n"))
        #expect(set.receivers.prometheus?.stateDirectory == "/var/lib/fluxtel")
        #expect(set.processors.maxAge == .seconds(90 * 60))
        #expect(load("receivers:\n  prometheus: {}\nprocessors:\n  max_age: 0\n")?.processors.maxAge == .zero)
        #expect(!loadErrors("receivers:\n  prometheus: {}\nprocessors:\n  max_age: soon\n").isEmpty)
    }
}

@Suite struct KubernetesSDConfigTests {
    @Test func defaultsAndKeys() throws {
        let off = try #require(load("receivers:\n  prometheus: {}\n")?.receivers.prometheus?.kubernetesSD)
        #expect(off == KubernetesSDConfiguration())
        #expect(!off.enabled && off.namespaces == ["flux-system"] && off.nodeName.isEmpty)
        let yaml = """
            receivers:
              prometheus:
                kubernetes_sd:
                  enabled: true
                  namespaces: [flux-system, flux-extra]
                  label_selector: "app in (kustomize-controller)"
                  node_name: "${env:NODE_NAME:-}"
                  api_server: https://10.96.0.1:443
                  token_path: /tmp/token
                  ca_path: /tmp/ca.crt
            """
        let sd = try #require(load(yaml, environment: ["NODE_NAME": "node-7"])?.receivers.prometheus?.kubernetesSD)
        #expect(sd.enabled)
        #expect(sd.namespaces == ["flux-system", "flux-extra"])
        #expect(sd.labelSelector == "app in (kustomize-controller)")
        #expect(sd.nodeName == "node-7")
        #expect(sd.apiServer == "https://10.96.0.1:443")
        #expect(sd.tokenPath == "/tmp/token")
    }

    @Test func errors() {
        let cases: [(String, Int, Int, String)] = [
            ("receivers:\n  prometheus:\n    kubernetes_sd: { enabled: yes please }\n", 3, 31, "true"),
            ("receivers:\n  prometheus:\n    kubernetes_sd: { namespaces: [] }\n", 3, 34, "at least one namespace"),
            ("receivers:\n  prometheus:\n    kubernetes_sd: { api_server: \"ftp://x\" }\n", 3, 34, "http"),
            ("receivers:\n  prometheus:\n    kubernetes_sd: { nodename: x }\n", 3, 22, "unknown key"),
        ]
        expectOneError(cases)
    }
}

import FluxtelTestSupport
import Foundation
import Kubernetes
import OTLPJSON
import Testing

/// The client against the fake API server: paged lists, the bearer token, discovery, Leases.
@Suite struct KubernetesClientTests {
    @Test func listFollowsContinueTokensAndKeepsTheFirstPagesResourceVersion() async throws {
        let api = try await FakeKubernetesAPI.start()
        try api.load(listFile: Fixtures.url("list/kustomizations.json"), in: Fixtures.kustomizations)
        let client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL))
        let list = try await client.list(path: Fixtures.kustomizations, pageSize: 3)
        await client.shutdown()
        try await api.shutdown()

        let fixture = try Fixtures.json("list/kustomizations.json")
        #expect(list.items == fixture["items"]?.array)
        #expect(list.resourceVersion == "483571")
        let pages = api.requests.filter { $0.path == Fixtures.kustomizations }
        #expect(pages.count == 3)
        #expect(pages.allSatisfy { $0.query["limit"] == "3" })
        #expect(pages[0].query["continue"] == nil)
        #expect(pages[1].query["continue"] != nil && pages[2].query["continue"] != nil)
    }

    @Test func anExpiredContinueTokenIsGone() async throws {
        let api = try await FakeKubernetesAPI.start()
        try api.load(listFile: Fixtures.url("list/kustomizations.json"), in: Fixtures.kustomizations)
        api.failNext(code: 410, reason: "Expired", pathContains: "kustomizations")
        let client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL))
        let error = await #expect(throws: KubernetesError.self) {
            try await client.list(path: Fixtures.kustomizations, pageSize: 3)
        }
        guard case .gone(let status) = error else {
            Issue.record("not gone: \(String(describing: error))")
            return
        }
        #expect(status.reason == "Expired")
        await client.shutdown()
        try await api.shutdown()
    }

    @Test func sendsTheBearerTokenAndRereadsItWhenItRotates() async throws {
        let api = try await FakeKubernetesAPI.start()
        let token = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-k8s-token-\(UUID())")
        defer { try? FileManager.default.removeItem(at: token) }
        try "first-token\n".write(to: token, atomically: true, encoding: .utf8)
        let client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL, tokenPath: token.path))
        api.requireToken("first-token")
        _ = try await client.list(path: Fixtures.gitRepositories)
        try "second-token".write(to: token, atomically: true, encoding: .utf8)
        api.requireToken("second-token")
        _ = try await client.list(path: Fixtures.gitRepositories)
        // A token the server does not take: 401, as a failed call.
        try "revoked".write(to: token, atomically: true, encoding: .utf8)
        let error = await #expect(throws: KubernetesError.self) {
            try await client.list(path: Fixtures.gitRepositories)
        }
        #expect(error?.status?.code == 401)
        await client.shutdown()
        try await api.shutdown()
        #expect(api.requests.map(\.authorization) == ["Bearer first-token", "Bearer second-token", "Bearer revoked"])
    }

    @Test func bearerTokenOverTLSWithTheClusterCA() async throws {
        let pki = try TestCertificates.generate()
        defer { pki.remove() }
        let api = try await FakeKubernetesAPI.start(certificates: pki)
        try api.load(listFile: Fixtures.url("list/gitrepositories.json"), in: Fixtures.gitRepositories)
        let token = pki.directory.appendingPathComponent("token")
        try "tls-token".write(to: token, atomically: true, encoding: .utf8)
        let client = KubernetesClient(
            endpoint: KubernetesEndpoint(baseURL: api.baseURL, tokenPath: token.path, caPath: pki.caCertificate))
        let list = try await client.list(path: Fixtures.gitRepositories)
        await client.shutdown()
        // Without the cluster's CA the server is not trusted.
        let untrusting = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL, tokenPath: token.path))
        await #expect(throws: (any Error).self) { try await untrusting.list(path: Fixtures.gitRepositories) }
        await untrusting.shutdown()
        try await api.shutdown()
        #expect(api.baseURL.hasPrefix("https://"))
        #expect(list.items.count == 2)
        #expect(api.requests.map(\.authorization) == ["Bearer tls-token"])
    }

    @Test func discoversTheServedVersionsOfAGroup() async throws {
        let api = try await FakeKubernetesAPI.start()
        api.serve(group: "kustomize.toolkit.fluxcd.io", versions: ["v1", "v1beta2"])
        let client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL))
        let served = try await client.servedVersions(group: "kustomize.toolkit.fluxcd.io")
        let missing = try await client.servedVersions(group: "image.toolkit.fluxcd.io")
        await client.shutdown()
        try await api.shutdown()
        #expect(served?.versions == ["v1", "v1beta2"])
        #expect(served?.preferred == "v1")
        #expect(missing == nil)
        #expect(api.requests.map(\.path) == ["/apis/kustomize.toolkit.fluxcd.io", "/apis/image.toolkit.fluxcd.io"])
    }

    @Test func leaseCreateUpdateAndConflict() async throws {
        let api = try await FakeKubernetesAPI.start()
        let client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL))
        #expect(try await client.getLease(namespace: "fluxtel", name: "fluxtel-flux-objects") == nil)

        var lease = JSONValue.object([
            "metadata": .object(["name": .string("fluxtel-flux-objects")]),
            "spec": .object(["holderIdentity": .string("pod-a"), "leaseDurationSeconds": .number(15)]),
        ])
        let created = try await client.createLease(namespace: "fluxtel", lease)
        #expect(created["kind"]?.string == "Lease")
        #expect(created["metadata"]?["namespace"]?.string == "fluxtel")
        let createdVersion = try #require(created["metadata"]?["resourceVersion"]?.string)
        // A second create of the same name conflicts.
        await #expect(throws: KubernetesError.self) { try await client.createLease(namespace: "fluxtel", lease) }

        // Renew with the resourceVersion read: accepted, a new resourceVersion.
        lease = try #require(try await client.getLease(namespace: "fluxtel", name: "fluxtel-flux-objects"))
        lease["spec"]?["renewTime"] = .string("2026-08-12T08:58:42.120007Z")
        let renewed = try await client.updateLease(namespace: "fluxtel", lease)
        #expect(renewed["spec"]?["renewTime"]?.string == "2026-08-12T08:58:42.120007Z")
        #expect(renewed["metadata"]?["resourceVersion"]?.string != createdVersion)

        // Another writer wrote in between: the stale update is a Conflict, and the Lease is unchanged.
        lease["spec"]?["holderIdentity"] = .string("pod-b")
        let conflict = await #expect(throws: KubernetesError.self) {
            try await client.updateLease(namespace: "fluxtel", lease)
        }
        if case .conflict = conflict {} else { Issue.record("not a conflict: \(String(describing: conflict))") }
        let stored = api.object(
            namespace: "fluxtel", name: "fluxtel-flux-objects", in: "/apis/coordination.k8s.io/v1/leases")
        #expect(stored?["spec"]?["holderIdentity"]?.string == "pod-a")
        await client.shutdown()
        try await api.shutdown()

        #expect(
            api.requests.map { "\($0.method) \($0.path)" } == [
                "GET /apis/coordination.k8s.io/v1/namespaces/fluxtel/leases/fluxtel-flux-objects",
                "POST /apis/coordination.k8s.io/v1/namespaces/fluxtel/leases",
                "POST /apis/coordination.k8s.io/v1/namespaces/fluxtel/leases",
                "GET /apis/coordination.k8s.io/v1/namespaces/fluxtel/leases/fluxtel-flux-objects",
                "PUT /apis/coordination.k8s.io/v1/namespaces/fluxtel/leases/fluxtel-flux-objects",
                "PUT /apis/coordination.k8s.io/v1/namespaces/fluxtel/leases/fluxtel-flux-objects",
            ])
    }

    @Test func inClusterEndpointFromTheEnvironment() throws {
        let endpoint = try KubernetesEndpoint.resolve(
            apiServer: "", tokenPath: "/t", caPath: "/c",
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"])
        #expect(endpoint == KubernetesEndpoint(baseURL: "https://[fd00::1]:6443", tokenPath: "/t", caPath: "/c"))
        let explicit = try KubernetesEndpoint.resolve(
            apiServer: "http://127.0.0.1:1/", tokenPath: "", caPath: "", environment: [:])
        #expect(explicit.baseURL == "http://127.0.0.1:1")
        #expect(throws: KubernetesEndpointError.self) {
            try KubernetesEndpoint.resolve(apiServer: "", tokenPath: "", caPath: "", environment: [:])
        }
    }
}

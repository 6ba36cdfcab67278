public import OTLPJSON

/// A list response, all pages together: the items and the resourceVersion to watch from.
public struct KubernetesList: Sendable, Equatable {
    public var items: [JSONValue]
    /// `metadata.resourceVersion` of the (first page of the) list: a consistent snapshot to watch from.
    public var resourceVersion: String
}

extension KubernetesClient {
    /// Lists a collection (`/api/v1/namespaces/x/pods`, `/apis/<group>/<version>/<resource>`), following
    /// `continue` tokens `pageSize` items at a time. A consistent read (no `resourceVersion`), so every
    /// page belongs to the first page's snapshot.
    /// - Parameter query: selectors (`labelSelector`, `fieldSelector`).
    /// - Throws: ``KubernetesError/gone(_:)`` when a continue token expired (list again).
    public func list(path: String, query: [(String, String)] = [], pageSize: Int = 500) async throws -> KubernetesList {
        var items: [JSONValue] = []
        let resourceVersion = try await list(path: path, query: query, pageSize: pageSize) {
            items.append(contentsOf: $0)
        }
        return KubernetesList(items: items, resourceVersion: resourceVersion)
    }

    /// The same list, handed over page by page (every list has at least one page, maybe empty): a caller
    /// that keeps only what it needs of each item never holds the whole list decoded (10,000 Flux
    /// objects decoded at once peaked at 168 MB, `benchmarks/flux-objects`). Returns the list's
    /// resourceVersion.
    public func list(
        path: String, query: [(String, String)] = [], pageSize: Int = 500, page: ([JSONValue]) async throws -> Void
    ) async throws -> String {
        var resourceVersion = ""
        var token = ""
        repeat {
            var pageQuery = query
            if pageSize > 0 { pageQuery.append(("limit", "\(pageSize)")) }
            if !token.isEmpty { pageQuery.append(("continue", token)) }
            let body = try await execute(path: path, query: pageQuery, maxBodyBytes: limits.maxListBytes)
            let answer = try Self.withBytes(of: body) { (bytes) throws(KubernetesError) in
                try KubernetesListPage(decoding: bytes, path: path)
            }
            if resourceVersion.isEmpty { resourceVersion = answer.resourceVersion }
            token = answer.continueToken
            try await page(answer.items)
        } while !token.isEmpty
        return resourceVersion
    }

    /// Whether the server serves a collection: one page of at most one item; false on 404 (a kind its
    /// group's version does not have, a CRD that is not installed).
    public func serves(path: String) async throws -> Bool {
        do {
            _ = try await send(path: path, query: [("limit", "1")], maxBodyBytes: limits.maxListBytes)
            return true
        } catch KubernetesError.notFound {
            return false
        }
    }
}

/// `/api/v1[/namespaces/<ns>]/<resource>[/<name>]` or `/apis/<group>/<version>[/namespaces/<ns>]/<resource>[/<name>]`.
struct FakeKubernetesPath {
    var collection: String
    var namespace: String?
    var name: String?

    init?(_ parts: [String]) {
        let prefixCount: Int
        switch parts.first {
        case "api": prefixCount = 2
        case "apis": prefixCount = 3
        default: return nil
        }
        guard parts.count > prefixCount else { return nil }
        var rest = Array(parts[prefixCount...])
        if rest.count >= 3, rest[0] == "namespaces" {
            namespace = rest[1]
            rest.removeFirst(2)
        }
        guard rest.count == 1 || rest.count == 2 else { return nil }
        collection = "/" + (parts[0..<prefixCount] + [rest[0]]).joined(separator: "/")
        name = rest.count == 2 ? rest[1] : nil
    }
}

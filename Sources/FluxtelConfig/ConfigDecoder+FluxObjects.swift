/// `receivers.flux_objects` (shaped like `kubernetes_sd`).
extension ConfigDecoder {
    mutating func fluxObjects(_ node: YAMLNode?, path: String) -> FluxObjectsConfiguration {
        var config = FluxObjectsConfiguration()
        let known = [
            "api_server", "token_path", "ca_path", "namespaces", "interval", "kinds", "events", "leader_election",
        ]
        guard let fields = fields(node, path: path, known: known) else { return config }
        note("receivers.flux_objects.token_path", fields["token_path"])
        note("receivers.flux_objects.ca_path", fields["ca_path"])
        read(fields["api_server"], .url(allowEmpty: true), into: &config.apiServer)
        read(fields["token_path"], .string, into: &config.tokenPath)
        read(fields["ca_path"], .string, into: &config.caPath)
        strings(fields["namespaces"], into: &config.namespaces)
        if config.namespaces.contains(where: \.isEmpty), let at = fields["namespaces"] {
            fail(.invalidValue, at: at, "a namespace must not be empty; leave namespaces out to watch all of them")
        }
        read(fields["interval"], .duration(minimum: .seconds(1)), into: &config.interval)
        strings(fields["kinds"], into: &config.kinds)
        let names = FluxKind.all.map(\.kind)
        if let at = fields["kinds"], let unknown = config.kinds.first(where: { !names.contains($0) }) {
            fail(.invalidValue, at: at, "unknown Flux kind \(quoted(unknown)); known: \(names.joined(separator: ", "))")
        }
        read(fields["events"], .bool, into: &config.events)
        if let electionNode = fields["leader_election"] {
            config.leaderElection = leaderElection(electionNode, path: fields.child("leader_election"))
        }
        return config
    }

    mutating func leaderElection(_ node: YAMLNode, path: String) -> LeaderElectionConfiguration {
        var config = LeaderElectionConfiguration()
        let known = ["enabled", "lease_name", "lease_namespace", "lease_duration", "renew_deadline", "retry_period"]
        guard let fields = fields(node, path: path, known: known) else { return config }
        read(fields["enabled"], .bool, into: &config.enabled)
        read(fields["lease_name"], .nonEmptyString("a Lease name"), into: &config.leaseName)
        read(fields["lease_namespace"], .string, into: &config.leaseNamespace)
        read(fields["lease_duration"], .duration(minimum: .seconds(1)), into: &config.leaseDuration)
        read(fields["renew_deadline"], .duration(minimum: .milliseconds(100)), into: &config.renewDeadline)
        read(fields["retry_period"], .duration(minimum: .milliseconds(100)), into: &config.retryPeriod)
        // client-go's rule (NewLeaderElector): lease duration > renew deadline > 1.2 × retry period.
        if !(config.leaseDuration > config.renewDeadline && config.renewDeadline > config.retryPeriod * 1.2) {
            fail(
                .invalidValue, at: fields["renew_deadline"] ?? fields["lease_duration"] ?? node,
                "leader election needs lease_duration > renew_deadline > 1.2 × retry_period (client-go's rule); defaults are 15s, 10s, 2s"
            )
        }
        return config
    }
}

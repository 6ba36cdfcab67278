/// The sections of the file, one method per mapping of DESIGN.md's reference shape.
/// Every method starts from the defaults of the model and overwrites what the file sets.
extension ConfigDecoder {
    static let topLevelKeys = ["receivers", "processors", "exporters", "service"]

    /// Decodes a whole document. A top-level section that is absent is taken from `fallback`
    /// (the embedded default); with no fallback it keeps the model's defaults.
    mutating func decode(_ root: YAMLNode?, fallback: AgentConfiguration?) -> AgentConfiguration {
        var configuration = fallback ?? AgentConfiguration()
        guard let top = fields(root, path: "", known: Self.topLevelKeys) else { return configuration }
        if top.has("receivers") { configuration.receivers = receivers(top["receivers"]) }
        if top.has("processors") { configuration.processors = processors(top["processors"]) }
        if top.has("exporters") || fallback == nil {
            configuration.exporters = exporters(top["exporters"])
        }
        if top.has("service") { configuration.service = service(top["service"]) }
        return configuration
    }

    // MARK: receivers

    mutating func receivers(_ node: YAMLNode?) -> Receivers {
        var receivers = Receivers()
        guard let fields = fields(node, path: "receivers", known: ["prometheus", "filelog", "otlp", "flux_objects"])
        else {
            return receivers
        }
        if fields.values.isEmpty, let node {
            fail(
                .missingKey, at: node,
                "no receivers configured; list at least one of prometheus, filelog, otlp (or leave out 'receivers' to run all three)"
            )
        }
        if fields.has("prometheus") {
            receivers.prometheus = prometheus(fields["prometheus"], path: fields.child("prometheus"))
        }
        if fields.has("filelog") { receivers.filelog = filelog(fields["filelog"], path: fields.child("filelog")) }
        if fields.has("otlp") { receivers.otlp = otlpReceiver(fields["otlp"], path: fields.child("otlp")) }
        if fields.has("flux_objects") {
            receivers.fluxObjects = fluxObjects(fields["flux_objects"], path: fields.child("flux_objects"))
        }
        return receivers
    }

    mutating func prometheus(_ node: YAMLNode?, path: String) -> PrometheusReceiverConfiguration {
        var config = PrometheusReceiverConfiguration()
        let known = [
            "scrape_interval", "scrape_timeout", "include_metrics", "exclude_metrics", "targets", "honor_labels",
            "body_size_limit", "metric_relabel_configs", "kubernetes_sd", "state_dir",
        ]
        guard let fields = fields(node, path: path, known: known) else { return config }
        let intervalOK = read(fields["scrape_interval"], .duration(), into: &config.scrapeInterval)
        let timeoutOK = read(fields["scrape_timeout"], .duration(), into: &config.scrapeTimeout)
        if config.scrapeTimeout > config.scrapeInterval, intervalOK || fields["scrape_interval"] == nil,
            timeoutOK || fields["scrape_timeout"] == nil, let at = fields["scrape_timeout"] ?? fields["scrape_interval"]
        {
            fail(
                .invalidValue, at: at,
                "scrape_timeout (\(formatDuration(config.scrapeTimeout))) must not exceed scrape_interval (\(formatDuration(config.scrapeInterval)))"
            )
        }
        strings(fields["include_metrics"], into: &config.includeMetrics)
        strings(fields["exclude_metrics"], into: &config.excludeMetrics)
        read(fields["honor_labels"], .bool, into: &config.honorLabels)
        read(fields["body_size_limit"], .size(1024...(1 << 30)), into: &config.bodySizeLimit)
        read(fields["state_dir"], .string, into: &config.stateDirectory)
        note("receivers.prometheus.state_dir", fields["state_dir"])
        if let node = fields["metric_relabel_configs"],
            let rules = sequence(
                node, path: fields.child("metric_relabel_configs"),
                expected: "a sequence of relabel rules (action, source_labels, regex, ...)",
                { $0.metricRelabelConfig($1, path: $2) })
        {
            config.metricRelabelConfigs = rules
        }
        if let sdNode = fields["kubernetes_sd"] {
            config.kubernetesSD = kubernetesSD(sdNode, path: fields.child("kubernetes_sd"))
        }
        if let node = fields["targets"],
            let targets = sequence(
                node, path: fields.child("targets"), expected: "a sequence of targets (url, labels)",
                { $0.scrapeTarget($1, path: $2) })
        {
            config.targets = targets
        }
        return config
    }

    mutating func kubernetesSD(_ node: YAMLNode?, path: String) -> KubernetesSDConfiguration {
        var config = KubernetesSDConfiguration()
        let known = ["enabled", "namespaces", "label_selector", "node_name", "api_server", "token_path", "ca_path"]
        guard let fields = fields(node, path: path, known: known) else { return config }
        read(fields["enabled"], .bool, into: &config.enabled)
        note("receivers.prometheus.kubernetes_sd.enabled", fields["enabled"])
        note("receivers.prometheus.kubernetes_sd.token_path", fields["token_path"])
        note("receivers.prometheus.kubernetes_sd.ca_path", fields["ca_path"])
        strings(fields["namespaces"], into: &config.namespaces)
        if config.namespaces.isEmpty || config.namespaces.contains(where: \.isEmpty), let at = fields["namespaces"] {
            fail(.invalidValue, at: at, "namespaces must list at least one namespace, like flux-system")
        }
        read(fields["label_selector"], .string, into: &config.labelSelector)
        read(fields["node_name"], .string, into: &config.nodeName)
        read(fields["api_server"], .url(allowEmpty: true), into: &config.apiServer)
        read(fields["token_path"], .string, into: &config.tokenPath)
        read(fields["ca_path"], .string, into: &config.caPath)
        return config
    }

    mutating func metricRelabelConfig(_ node: YAMLNode, path: String) -> MetricRelabelConfig? {
        let known = ["action", "source_labels", "separator", "regex", "target_label", "replacement"]
        guard let fields = fields(node, path: path, known: known) else { return nil }
        var rule = MetricRelabelConfig()
        if let actionNode = fields["action"], !read(actionNode, .word, into: &rule.action) { return nil }
        var ok = true
        strings(fields["source_labels"], into: &rule.sourceLabels)
        read(fields["separator"], .string, into: &rule.separator)
        if let regexNode = fields["regex"], read(regexNode, .string, into: &rule.regex) {
            do {
                _ = try Regex("^(?:" + rule.regex + ")$")
            } catch {
                fail(.invalidValue, at: regexNode, "invalid regex \(quoted(rule.regex)): \(error)")
                ok = false
            }
        }
        read(fields["replacement"], .string, into: &rule.replacement)
        read(fields["target_label"], .string, into: &rule.targetLabel)
        if rule.action == .replace, rule.targetLabel.isEmpty {
            fail(.missingKey, at: fields["target_label"] ?? node, "action replace needs a target_label in \(path)")
            ok = false
        }
        if rule.action == .keep || rule.action == .drop, rule.sourceLabels.isEmpty {
            fail(
                .missingKey, at: fields["source_labels"] ?? node,
                "action \(rule.action.rawValue) needs source_labels in \(path)")
            ok = false
        }
        return ok ? rule : nil
    }

    mutating func scrapeTarget(_ node: YAMLNode, path: String) -> ScrapeTarget? {
        guard let fields = fields(node, path: path, known: ["url", "labels"]) else { return nil }
        guard let urlNode = fields["url"] else {
            fail(.missingKey, at: node, "missing key 'url' in \(path)")
            return nil
        }
        var target = ScrapeTarget(url: "")
        let urlOK = read(urlNode, .url(allowEmpty: false), into: &target.url)
        target.labels = pairs(fields["labels"], path: fields.child("labels"), validate: labelProblem) ?? []
        return urlOK ? target : nil
    }

    mutating func filelog(_ node: YAMLNode?, path: String) -> FileLogReceiverConfiguration {
        var config = FileLogReceiverConfiguration()
        let known = [
            "include", "exclude", "start_at", "format", "checkpoint_dir", "poll_interval", "max_log_size",
            "fingerprint_size", "flux_fields",
        ]
        guard let fields = fields(node, path: path, known: known) else { return config }
        strings(fields["include"], into: &config.include)
        if config.include.isEmpty, let at = fields["include"] {
            fail(.invalidValue, at: at, "include must list at least one glob, like /var/log/pods/flux-system_*/*/*.log")
        }
        strings(fields["exclude"], into: &config.exclude)
        read(fields["start_at"], .word, into: &config.startAt)
        read(fields["format"], .word, into: &config.format)
        read(fields["checkpoint_dir"], .nonEmptyString("a directory path"), into: &config.checkpointDirectory)
        note("receivers.filelog.checkpoint_dir", fields["checkpoint_dir"])
        read(fields["poll_interval"], .duration(), into: &config.pollInterval)
        read(fields["max_log_size"], .size(1024...(1 << 30)), into: &config.maxLogSize)
        read(fields["fingerprint_size"], .size(16...(64 << 10)), into: &config.fingerprintSize)
        read(fields["flux_fields"], .word, into: &config.fluxFields)
        return config
    }

    mutating func otlpReceiver(_ node: YAMLNode?, path: String) -> OTLPReceiverConfiguration {
        var config = OTLPReceiverConfiguration()
        let known = ["endpoint", "max_request_body", "traces_paths", "auth", "tls"]
        guard let fields = fields(node, path: path, known: known) else { return config }
        read(fields["endpoint"], .listenAddress(allowEmpty: false), into: &config.endpoint)
        read(fields["max_request_body"], .size(1024...(1 << 30)), into: &config.maxRequestBody)
        strings(fields["traces_paths"], into: &config.tracesPaths)
        if let node = fields["traces_paths"], let bad = config.tracesPaths.first(where: { !$0.hasPrefix("/") }) {
            fail(.invalidValue, at: node, "traces_paths entries are URL paths starting with '/', got '\(bad)'")
        }
        if let auth = self.fields(fields["auth"], path: fields.child("auth"), known: ["bearer_token", "basic"]) {
            read(auth["bearer_token"], .string, into: &config.bearerToken)
            if let basic = self.fields(auth["basic"], path: auth.child("basic"), known: ["username", "password"]) {
                read(basic["username"], .string, into: &config.basicUsername)
                read(basic["password"], .string, into: &config.basicPassword)
                if config.basicUsername.isEmpty != config.basicPassword.isEmpty,
                    let at = basic["username"] ?? basic["password"]
                {
                    fail(.missingKey, at: at, "username and password go together: set both for basic auth, or neither")
                }
            }
        }
        if let tls = self.fields(
            fields["tls"], path: fields.child("tls"), known: ["cert_file", "key_file", "client_ca_file"])
        {
            read(tls["cert_file"], .string, into: &config.tls.certFile)
            read(tls["key_file"], .string, into: &config.tls.keyFile)
            read(tls["client_ca_file"], .string, into: &config.tls.clientCAFile)
            for key in ["cert_file", "key_file", "client_ca_file"] { note("receivers.otlp.tls.\(key)", tls[key]) }
            if config.tls.certFile.isEmpty != config.tls.keyFile.isEmpty, let at = tls["cert_file"] ?? tls["key_file"] {
                fail(.missingKey, at: at, "cert_file and key_file go together: set both to serve https, or neither")
            }
            if !config.tls.clientCAFile.isEmpty, config.tls.certFile.isEmpty, let at = tls["client_ca_file"] {
                fail(
                    .missingKey, at: at, "client_ca_file needs cert_file and key_file (client certificates need https)")
            }
        }
        return config
    }

    // MARK: processors

    mutating func processors(_ node: YAMLNode?) -> ProcessorsConfiguration {
        var processors = ProcessorsConfiguration()
        guard let fields = fields(node, path: "processors", known: ["resource", "batch", "queue", "max_age", "hold"])
        else {
            return processors
        }
        read(fields["max_age"], .duration(minimum: .zero), into: &processors.maxAge)
        read(fields["hold"], .duration(minimum: .zero), into: &processors.hold)
        if let resource = self.fields(fields["resource"], path: "processors.resource", known: ["attributes"]) {
            processors.resourceAttributes = pairs(resource["attributes"], path: "processors.resource.attributes") ?? []
        }
        var batchMaxBytesNode: YAMLNode?
        if let batch = self.fields(
            fields["batch"], path: "processors.batch", known: ["max_items", "max_bytes", "timeout"])
        {
            read(batch["max_items"], .integer(1...1_000_000), into: &processors.batch.maxItems)
            read(batch["max_bytes"], .size(1024...(1 << 30)), into: &processors.batch.maxBytes)
            read(batch["timeout"], .duration(), into: &processors.batch.timeout)
            batchMaxBytesNode = batch["max_bytes"]
        }
        var queueMaxBytesNode: YAMLNode?
        if let queue = self.fields(
            fields["queue"], path: "processors.queue",
            known: ["max_bytes", "directory", "workers", "sync", "sync_interval", "full_policy", "max_age"])
        {
            read(queue["max_bytes"], .size(1024...Int.max), into: &processors.queue.maxBytes)
            read(queue["directory"], .string, into: &processors.queue.directory)
            note("processors.queue.directory", queue["directory"])
            read(queue["workers"], .integer(1...64), into: &processors.queue.workers)
            read(queue["sync"], .word, into: &processors.queue.sync)
            read(queue["sync_interval"], .duration(minimum: .milliseconds(1)), into: &processors.queue.syncInterval)
            read(queue["full_policy"], .word, into: &processors.queue.fullPolicy)
            read(queue["max_age"], .duration(minimum: .seconds(1)), into: &processors.queue.maxAge)
            if processors.queue.directory.isEmpty {
                // These only mean something on disk: say so rather than ignore them silently.
                for key in ["sync", "sync_interval", "full_policy"] {
                    if let at = queue[key], !isDefault(key, processors.queue) {
                        fail(
                            .invalidValue, at: at,
                            "\(key) applies to a persistent queue only: set processors.queue.directory too")
                    }
                }
            }
            queueMaxBytesNode = queue["max_bytes"]
        }
        if processors.queue.maxBytes < processors.batch.maxBytes, let at = queueMaxBytesNode ?? batchMaxBytesNode {
            fail(
                .invalidValue, at: at,
                "processors.queue.max_bytes (\(formatSize(processors.queue.maxBytes))) must be at least processors.batch.max_bytes (\(formatSize(processors.batch.maxBytes)))"
            )
        }
        return processors
    }

    private func isDefault(_ key: String, _ queue: QueueConfiguration) -> Bool {
        let defaults = QueueConfiguration()
        switch key {
        case "sync": return queue.sync == defaults.sync
        case "sync_interval": return queue.syncInterval == defaults.syncInterval
        case "full_policy": return queue.fullPolicy == defaults.fullPolicy
        default: return true
        }
    }

    // MARK: exporters

    /// `exporters`: `otlp_http` with no endpoint at all is dropped and remembered (`missingEndpoint`); with
    /// no exporter left, `fallback` decides: `debug` prints (the default), `none` exports nothing.
    mutating func exporters(_ node: YAMLNode?) -> ExportersConfiguration {
        var exporters = ExportersConfiguration()
        if let fields = fields(node, path: "exporters", known: ["otlp_http", "debug", "fallback"]) {
            read(fields["fallback"], .word, into: &exporters.fallback)
            if fields.has("otlp_http") {
                let otlp = otlpHTTP(fields["otlp_http"], path: "exporters.otlp_http")
                let hasEndpoint =
                    !(otlp.endpoint.isEmpty && otlp.tracesEndpoint.isEmpty && otlp.logsEndpoint.isEmpty
                    && otlp.metricsEndpoint.isEmpty)
                if hasEndpoint {
                    exporters.otlpHTTP = otlp
                } else {
                    exporters.missingEndpoint = missingEndpointReason(fields["otlp_http"])
                }
            }
            if fields.has("debug") {
                var debug = DebugExporterConfiguration()
                if let debugFields = self.fields(fields["debug"], path: "exporters.debug", known: ["verbosity"]) {
                    read(debugFields["verbosity"], .word, into: &debug.verbosity)
                }
                exporters.debug = debug
            }
        }
        if exporters.otlpHTTP == nil, exporters.debug == nil, exporters.fallback == .debug {
            exporters.debug = DebugExporterConfiguration(verbosity: .basic)
            exporters.debugIsFallback = true
        }
        return exporters
    }

    /// The file name the embedded defaults are decoded under.
    static let embeddedFileName = "<embedded default>"

    /// Why `otlp_http` has no endpoint, naming where it is set and the `${env:…}` variables it reads.
    private func missingEndpointReason(_ node: YAMLNode?) -> String {
        var variables: [String] = []
        var location = file
        if case .mapping(let entries)? = node?.content {
            for entry in entries where entry.key.scalar?.value == "endpoint" {
                location = "\(file):\(entry.value.line):\(entry.value.column)"
                if let text = entry.value.scalar?.value { variables = Self.environmentVariables(in: text) }
            }
        }
        let set = variables.isEmpty ? "exporters.otlp_http.endpoint" : variables.joined(separator: ", ")
        return "\(location): exporters.otlp_http has no endpoint: set \(set) to export to Dash0"
    }

    /// The variable names of `${env:NAME}` / `${env:NAME:-default}` references in `text`.
    static func environmentVariables(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let start = rest.firstRange(of: "${env:") {
            rest = rest[start.upperBound...]
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { names.append(String(name)) }
        }
        return names
    }

    mutating func otlpHTTP(_ node: YAMLNode?, path: String) -> OTLPHTTPExporterConfiguration {
        var config = OTLPHTTPExporterConfiguration(endpoint: "")
        let known = [
            "endpoint", "traces_endpoint", "logs_endpoint", "metrics_endpoint", "headers", "compression",
            "compression_level", "timeout", "retry", "tls",
        ]
        guard let fields = fields(node, path: path, known: known) else { return config }
        read(fields["endpoint"], .otlpBaseURL(allowEmpty: true), into: &config.endpoint)
        read(fields["traces_endpoint"], .url(allowEmpty: true), into: &config.tracesEndpoint)
        read(fields["logs_endpoint"], .url(allowEmpty: true), into: &config.logsEndpoint)
        read(fields["metrics_endpoint"], .url(allowEmpty: true), into: &config.metricsEndpoint)
        config.headers = pairs(fields["headers"], path: fields.child("headers"), validate: headerProblem) ?? []
        read(fields["compression"], .word, into: &config.compression)
        read(fields["compression_level"], .integer(1...9), into: &config.compressionLevel)
        read(fields["timeout"], .duration(), into: &config.timeout)
        let retryKnown = ["enabled", "initial_interval", "max_interval", "max_elapsed_time", "multiplier"]
        if let retry = self.fields(fields["retry"], path: fields.child("retry"), known: retryKnown) {
            read(retry["enabled"], .bool, into: &config.retry.enabled)
            let initialOK = read(retry["initial_interval"], .duration(), into: &config.retry.initialInterval)
            let maxOK = read(retry["max_interval"], .duration(), into: &config.retry.maxInterval)
            read(retry["max_elapsed_time"], .duration(), into: &config.retry.maxElapsedTime)
            read(retry["multiplier"], .number(atLeast: 1), into: &config.retry.multiplier)
            if config.retry.initialInterval > config.retry.maxInterval, initialOK || retry["initial_interval"] == nil,
                maxOK || retry["max_interval"] == nil, let at = retry["initial_interval"] ?? retry["max_interval"]
            {
                fail(
                    .invalidValue, at: at,
                    "initial_interval (\(formatDuration(config.retry.initialInterval))) must not exceed max_interval (\(formatDuration(config.retry.maxInterval)))"
                )
            }
        }
        let tlsKnown = ["ca_file", "cert_file", "key_file", "insecure_skip_verify"]
        if let tls = self.fields(fields["tls"], path: fields.child("tls"), known: tlsKnown) {
            read(tls["ca_file"], .string, into: &config.tls.caFile)
            read(tls["cert_file"], .string, into: &config.tls.certFile)
            read(tls["key_file"], .string, into: &config.tls.keyFile)
            for key in ["ca_file", "cert_file", "key_file"] { note("exporters.otlp_http.tls.\(key)", tls[key]) }
            read(tls["insecure_skip_verify"], .bool, into: &config.tls.insecureSkipVerify)
            if config.tls.certFile.isEmpty != config.tls.keyFile.isEmpty, let at = tls["cert_file"] ?? tls["key_file"] {
                fail(
                    .missingKey, at: at,
                    "cert_file and key_file go together: set both for a client certificate, or neither")
            }
        }
        return config
    }

    // MARK: service

    mutating func service(_ node: YAMLNode?) -> ServiceConfiguration {
        var service = ServiceConfiguration()
        guard let fields = fields(node, path: "service", known: ["telemetry", "shutdown_timeout"]) else {
            return service
        }
        if let telemetry = self.fields(
            fields["telemetry"], path: "service.telemetry", known: ["address", "log_level", "metrics", "logs"])
        {
            read(telemetry["address"], .listenAddress(allowEmpty: true), into: &service.telemetryAddress)
            read(telemetry["log_level"], .oneOf(ServiceConfiguration.logLevels), into: &service.logLevel)
            if let metrics = self.fields(
                telemetry["metrics"], path: "service.telemetry.metrics", known: ["export", "interval"])
            {
                read(metrics["export"], .word, into: &service.metricsExport)
                read(metrics["interval"], .duration(minimum: .seconds(1)), into: &service.metricsInterval)
            }
            if let logs = self.fields(telemetry["logs"], path: "service.telemetry.logs", known: ["export"]) {
                read(logs["export"], .bool, into: &service.logsExport)
            }
        }
        read(fields["shutdown_timeout"], .duration(), into: &service.shutdownTimeout)
        return service
    }
}

extension ServiceConfiguration {
    /// The values `service.telemetry.log_level` accepts (swift-log's levels).
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
}

/// HTTP header names are tokens; values must not break the header block.
private func headerProblem(_ name: String, _ value: String) -> String? {
    let separators = "()<>@,;:\\\"/[]?={} \t"
    if name.isEmpty
        || name.contains(where: {
            !$0.isASCII || $0.asciiValue! < 0x21 || $0.asciiValue! == 0x7F || separators.contains($0)
        })
    {
        return "invalid HTTP header name '\(name)'"
    }
    if value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
        return "the value of header '\(name)' contains a line break"
    }
    return nil
}

/// Prometheus label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
private func labelProblem(_ name: String, _ value: String) -> String? {
    let valid =
        name.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
        && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    return valid ? nil : "invalid label name '\(name)' (letters, digits and _, not starting with a digit)"
}

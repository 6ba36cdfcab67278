#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `run` would fail on that the file alone does not show: files that cannot be read, directories
/// that cannot be written, `kubernetes_sd` outside a cluster without `api_server`. Checked on this
/// machine, with this environment, by `fluxtel validate --environment` and by `run` before it starts;
/// each problem names the key's position in the file when the file sets it.
enum Preflight {
    /// A position of a key's value in the file (`ConfigDecoder.positions`).
    typealias Positions = [String: (line: Int, column: Int)]

    static func problems(
        _ configuration: AgentConfiguration, positions: Positions, file: String, environment: [String: String]
    ) -> [ConfigError] {
        var problems: [ConfigError] = []
        func problem(_ key: String, _ message: String) {
            let at = positions[key] ?? (0, 0)
            problems.append(
                ConfigError(
                    code: .environment, file: file, line: at.line, column: at.column, message: "\(key): \(message)"))
        }
        func readable(_ key: String, _ path: String) {
            guard !path.isEmpty, let why = unreadable(path) else { return }
            problem(key, "cannot read \(path): \(why)")
        }
        func writable(_ key: String, _ path: String) {
            guard !path.isEmpty, let why = unwritableDirectory(path) else { return }
            problem(key, "cannot write to \(path): \(why)")
        }
        if let otlp = configuration.receivers.otlp {
            readable("receivers.otlp.tls.cert_file", otlp.tls.certFile)
            readable("receivers.otlp.tls.key_file", otlp.tls.keyFile)
            readable("receivers.otlp.tls.client_ca_file", otlp.tls.clientCAFile)
        }
        if let exporter = configuration.exporters.otlpHTTP {
            readable("exporters.otlp_http.tls.ca_file", exporter.tls.caFile)
            readable("exporters.otlp_http.tls.cert_file", exporter.tls.certFile)
            readable("exporters.otlp_http.tls.key_file", exporter.tls.keyFile)
        }
        if let sd = configuration.receivers.prometheus?.kubernetesSD, sd.enabled, sd.apiServer.isEmpty {
            let host = environment["KUBERNETES_SERVICE_HOST"] ?? ""
            let port = environment["KUBERNETES_SERVICE_PORT"] ?? ""
            if host.isEmpty || port.isEmpty {
                problem(
                    "receivers.prometheus.kubernetes_sd.enabled",
                    "not in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set): run it in a pod, or set api_server"
                )
            } else {
                readable("receivers.prometheus.kubernetes_sd.token_path", sd.tokenPath)
                readable("receivers.prometheus.kubernetes_sd.ca_path", sd.caPath)
            }
        }
        if let prometheus = configuration.receivers.prometheus {
            writable("receivers.prometheus.state_dir", prometheus.stateDirectory)
        }
        if let filelog = configuration.receivers.filelog {
            writable("receivers.filelog.checkpoint_dir", filelog.checkpointDirectory)
        }
        writable("processors.queue.directory", configuration.processors.queue.directory)
        return problems
    }

    /// Why `path` cannot be read as a file, or nil when it can.
    static func unreadable(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return String(cString: strerror(errno)) }
        guard st.st_mode & S_IFMT != S_IFDIR else { return "it is a directory" }
        guard access(path, R_OK) == 0 else { return String(cString: strerror(errno)) }
        return nil
    }

    /// Why a file cannot be created in the existing directory `directory`, or nil when one can (the
    /// probe file is removed at once).
    static func cannotCreateFile(in directory: String) -> String? {
        var template =
            Array((directory == "/" ? "" : directory).utf8CString.dropLast())
            + Array("/.fluxtel-preflight-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        close(fd)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return nil
    }

    /// Why files cannot be created in the directory `path` (or, if it does not exist yet, in the
    /// directory it would be created in), or nil when they can.
    static func unwritableDirectory(_ path: String) -> String? {
        var current = path
        while true {
            var st = stat()
            if stat(current, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFDIR else {
                    return current == path ? "it is not a directory" : "\(current) is not a directory"
                }
                // Try it (access(2) says yes to root even where nothing can be created, e.g. in /proc).
                guard let why = cannotCreateFile(in: current) else { return nil }
                return current == path ? why : "\(current) (where it would be created): \(why)"
            }
            guard errno == ENOENT || errno == ENOTDIR else { return String(cString: strerror(errno)) }
            guard let slash = current.lastIndex(of: "/") else {
                current = "."
                continue
            }
            current = slash == current.startIndex ? "/" : String(current[..<slash])
        }
    }
}

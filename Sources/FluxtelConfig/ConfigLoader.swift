#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads and validates configuration files.
///
/// ```swift
/// do {
///     let configuration = try ConfigLoader.load(path: path, environment: ConfigLoader.processEnvironment())
/// } catch {
///     for problem in error.errors { print(problem, to: &standardError) }   // file:line:column: message
/// }
/// ```
///
/// Semantics (also documented in `config/fluxtel.yaml`):
/// - A top-level section (`receivers`, `processors`, `exporters`, `service`) that is absent is taken
///   from the embedded default; inside a section, an absent key keeps its default.
/// - In `receivers`, a receiver runs when its key is present, even with no value (`otlp:`).
/// - `exporters.otlp_http` without any endpoint (after `${env:…}` expansion) is dropped. In the embedded
///   default, or with no `exporters` at all, `debug` then runs with `verbosity: basic` (the agent warns
///   that it only prints); in a file that configures `otlp_http`, nothing is exported and the agent says
///   so (`ExportersConfiguration.missingEndpoint`) but keeps running.
/// - In `headers`, `labels` and `resource.attributes`, entries whose value expands to "" are left out.
public enum ConfigLoader {
    /// Largest configuration file read; anything bigger is not a configuration file.
    public static let maxFileSize = 4 << 20

    /// Reads, parses and validates the file at `path`. Errors name `path` as given.
    public static func load(path: String, environment: [String: String]) throws(ConfigErrors) -> AgentConfiguration {
        switch readFile(path) {
        case .success(let bytes): return try load(bytes: bytes, fileName: path, environment: environment)
        case .failure(let error): throw ConfigErrors([error])
        }
    }

    /// Parses and validates configuration text; `fileName` is used in error messages.
    public static func load(
        yaml: String, fileName: String, environment: [String: String]
    ) throws(ConfigErrors)
        -> AgentConfiguration
    {
        try load(bytes: Array(yaml.utf8), fileName: fileName, environment: environment)
    }

    /// Parses and validates configuration bytes (a file's contents, e.g. from stdin or a fuzzer); `fileName`
    /// is used in error messages. The bytes go to libyaml untouched, so it reports bad encodings with their position.
    /// With `checkEnvironment`, also what `run` would fail on here (`Preflight`): unreadable TLS and token
    /// files, unwritable checkpoint and queue directories, `kubernetes_sd` outside a cluster.
    public static func load(
        bytes: [UInt8], fileName: String, environment: [String: String], checkEnvironment: Bool = false
    ) throws(ConfigErrors) -> AgentConfiguration {
        let root = try YAMLParser().parse(bytes: bytes, fileName: fileName)
        let fallback = try loadDefault(environment: environment)
        var decoder = ConfigDecoder(file: fileName, environment: environment)
        let configuration = decoder.decode(root, fallback: fallback)
        guard decoder.errors.isEmpty else { throw ConfigErrors(deduplicated(decoder.errors)) }
        if checkEnvironment {
            let problems = Preflight.problems(
                configuration, positions: decoder.positions, file: fileName, environment: environment)
            guard problems.isEmpty else { throw ConfigErrors(deduplicated(problems)) }
        }
        return configuration
    }

    /// `load(path:environment:)` plus what `run` would fail on here (see `load(bytes:…checkEnvironment:)`).
    public static func load(
        path: String, environment: [String: String], checkEnvironment: Bool
    ) throws(ConfigErrors)
        -> AgentConfiguration
    {
        switch readFile(path) {
        case .success(let bytes):
            return try load(bytes: bytes, fileName: path, environment: environment, checkEnvironment: checkEnvironment)
        case .failure(let error): throw ConfigErrors([error])
        }
    }

    /// The embedded Flux defaults (`AgentConfiguration.embeddedDefaultYAML`) under `environment`:
    /// all receivers, and the Dash0 exporter when `DASH0_ENDPOINT` is set, else the debug exporter.
    public static func loadDefault(environment: [String: String]) throws(ConfigErrors) -> AgentConfiguration {
        let fileName = ConfigDecoder.embeddedFileName
        let root = try YAMLParser().parse(AgentConfiguration.embeddedDefaultYAML, fileName: fileName)
        var decoder = ConfigDecoder(file: fileName, environment: environment)
        let configuration = decoder.decode(root, fallback: nil)
        guard decoder.errors.isEmpty else { throw ConfigErrors(deduplicated(decoder.errors)) }
        return configuration
    }

    /// Every problem of the file at `path`, empty when it is valid: for `fluxtel validate`.
    public static func validate(path: String, environment: [String: String]) -> [ConfigError] {
        do {
            _ = try load(path: path, environment: environment)
            return []
        } catch {
            return error.errors
        }
    }

    /// The environment of this process, for `environment:` parameters.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        guard var entry = environmentPointer() else { return result }
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") {
                let name = String(pair[..<equals])
                if result[name] == nil { result[name] = String(pair[pair.index(after: equals)...]) }
            }
            entry += 1
        }
        return result
    }

    /// Aliased nodes are decoded once per use; report each problem once.
    private static func deduplicated(_ errors: [ConfigError]) -> [ConfigError] {
        var seen: Set<ConfigError> = []
        return errors.filter { seen.insert($0).inserted }.sorted {
            ($0.line, $0.column) < ($1.line, $1.column)
        }
    }

    private static func readFile(_ path: String) -> Result<[UInt8], ConfigError> {
        func failure(_ message: String) -> Result<[UInt8], ConfigError> {
            .failure(ConfigError(code: .unreadableFile, file: path, line: 0, column: 0, message: message))
        }
        func systemError() -> String { String(cString: strerror(errno)) }

        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return failure("cannot open configuration file: \(systemError())") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return failure("cannot read configuration file: \(systemError())")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maxFileSize {
                return failure("configuration file is larger than \(formatSize(maxFileSize))")
            }
        }
        return .success(bytes)
    }
}

private func environmentPointer() -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? { environ }

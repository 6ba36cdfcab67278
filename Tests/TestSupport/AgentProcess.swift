import Foundation
import Synchronization

/// The real `fluxtel` binary (built by `swift build`, as `scripts/test` does first) as a child process
/// whose stdout and stderr go to files, so a chatty agent (an outage logs every failed attempt) can
/// never block on a full pipe.
///
/// Give the agent port 0 for its listeners (`receivers.otlp.endpoint: 127.0.0.1:0`,
/// `service.telemetry.address: 127.0.0.1:0`) and ask it which ports it got: `otlpPort` and
/// `telemetryPort` wait for the JSON log lines in which the agent reports the address it bound.
public final class AgentProcess: @unchecked Sendable {
    public struct Exit: Sendable {
        public var status: Int32
        /// True when the process ended by a signal (`status` is then the signal number).
        public var signalled: Bool
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The agent's log message when its OTLP/HTTP receiver listens (`address` = host:port).
    public static let otlpListening = "Listening for OTLP/HTTP"
    /// The agent's log message when its telemetry server listens (`address` = host:port).
    public static let telemetryListening = "Serving /metrics, /healthz, /readyz"

    public let process: Process
    public let stdoutPath: String
    public let stderrPath: String
    private let exit = Mutex<(status: Exit?, waiters: [CheckedContinuation<Exit, Never>])>((nil, []))
    /// Ports found in the log, by message.
    private let ports = Mutex<[String: Int]>([:])

    /// `.build/debug/fluxtel`, else `.build/release/fluxtel`.
    public static func binary() throws -> String {
        for configuration in ["debug", "release"] {
            let path = InteropPython.packageRoot.appendingPathComponent(".build/\(configuration)/fluxtel").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw InteropPython.Missing(
            description: "no fluxtel binary under .build/: run `swift build --product fluxtel` (scripts/test does)")
    }

    /// Starts `fluxtel arguments...`; output goes to `<logPrefix>.stdout` and `<logPrefix>.stderr`.
    /// `wrapper` (e.g. `["/usr/bin/prlimit", "--fsize=1048576", "--"]`) runs the binary through a
    /// command that execs it, so the process (and its pid) is still the agent's.
    public init(
        _ arguments: [String], logPrefix: String, environment: [String: String] = [:], wrapper: [String] = []
    ) throws {
        process = Process()
        if let command = wrapper.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = Array(wrapper.dropFirst()) + [try Self.binary()] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: try Self.binary())
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        stdoutPath = logPrefix + ".stdout"
        stderrPath = logPrefix + ".stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.terminationHandler = { [weak self] process in
            let status = Exit(
                status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal)
            guard let self else { return }
            let waiters = self.exit.withLock { exit in
                exit.status = status
                defer { exit.waiters.removeAll() }
                return exit.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { exit.withLock { $0.status == nil } }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to end; after `timeout` (a hang bound, scaled by `FLUXTEL_TEST_TIME_SCALE`)
    /// it is killed (SIGKILL) and nil is returned.
    public func wait(timeout: Duration = .seconds(60)) async throws -> Exit? {
        let bound = TestTime.scaled(timeout)
        let pid = process.processIdentifier
        let timer = Task { [weak self] in
            // The hang bound, cancelled as soon as the process exits.
            guard (try? await Task.sleep(for: bound)) != nil, self?.isRunning == true else { return false }
            kill(pid, SIGKILL)
            return true
        }
        let status = await exited()
        timer.cancel()
        return await timer.value ? nil : status
    }

    /// The process's end, whenever it comes.
    public func exited() async -> Exit {
        await withCheckedContinuation { continuation in
            let now: Exit? = exit.withLock { exit in
                if let status = exit.status { return status }
                exit.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// What the agent printed on stderr so far (its JSON log lines).
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    /// What the agent printed on stdout so far.
    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

    /// The port of the OTLP/HTTP receiver, from the agent's "Listening for OTLP/HTTP" log line
    /// (waits for it; throws if the agent exits first or does not log it within the hang bound).
    public var otlpPort: Int { get async throws { try await loggedPort(Self.otlpListening) } }

    /// The port of the telemetry server (`/metrics`, `/healthz`, `/readyz`), from its log line.
    public var telemetryPort: Int { get async throws { try await loggedPort(Self.telemetryListening) } }

    /// The port in the `address` field of the first JSON log line whose `msg` is `message`.
    public func loggedPort(_ message: String, timeout: Duration = .seconds(60)) async throws -> Int {
        if let known = ports.withLock({ $0[message] }) { return known }
        var port: Int?
        var gone = false
        _ = await eventually(timeout) {
            port = Self.port(logged: message, in: stderr)
            gone = !isRunning
            return port != nil || gone
        }
        // The line may have been written just before the exit.
        if let port = port ?? Self.port(logged: message, in: stderr) {
            ports.withLock { $0[message] = port }
            return port
        }
        throw Failure(
            description: """
                the agent \(gone ? "exited before it logged" : "did not log") "\(message)": \(stderr.suffix(2000))
                """)
    }

    /// The port of `"address":"host:port"` in the first line of `log` with `"msg":"<message>"`.
    public static func port(logged message: String, in log: String) -> Int? {
        let needle = #""msg":""# + message + #"""#
        for line in log.split(separator: "\n") where line.contains(needle) {
            guard let range = line.range(of: #""address":""#) else { continue }
            let address = line[range.upperBound...].prefix { $0 != "\"" }
            if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
                return port
            }
        }
        return nil
    }

    /// Waits until `/readyz` answers 200 (polled with `eventually`; the bound only catches a hang).
    /// Throws, with the agent's stderr, if it exits first or never becomes ready.
    public func waitUntilReady(timeout: Duration = .seconds(60)) async throws {
        let port = try await telemetryPort
        var ready = false
        _ = await eventually(timeout) {
            ready = await LoopbackHTTP.fetch(port: port, path: "/readyz")?.status == 200
            return ready || !isRunning
        }
        guard ready else {
            throw Failure(
                description: """
                    the agent \(isRunning ? "did not become ready" : "exited before it was ready"): \(stderr.suffix(2000))
                    """)
        }
    }

    /// The agent's `/metrics` exposition; polled with `eventually` until it answers (an unanswered
    /// exposition would read as zero for every counter). Throws if it never does.
    public func metrics(timeout: Duration = .seconds(60)) async throws -> String {
        let port = try await telemetryPort
        var text: String?
        _ = await eventually(timeout) {
            if let response = await LoopbackHTTP.fetch(port: port, path: "/metrics"), response.status == 200,
                !response.body.isEmpty
            {
                text = String(decoding: response.body, as: UTF8.self)
            }
            return text != nil || !isRunning
        }
        guard let text else { throw Failure(description: "/metrics did not answer: \(stderr.suffix(2000))") }
        return text
    }

    /// A sample of a Prometheus exposition: the line `name{...}` whose labels include every one of
    /// `labels` (e.g. `["signal": "traces"]`), or `name value` when `labels` is empty.
    public static func sample(_ name: String, _ labels: [String: String] = [:], in exposition: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let head = line.prefix { $0 != " " }
            guard labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            if labels.isEmpty && head != name { continue }
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }
}

/// Blocking HTTP/1.1 on 127.0.0.1 for test clients that run on their own threads.
public enum LoopbackHTTP {
    public struct Response: Sendable {
        public var status: Int
        /// Header lines as sent (name, value).
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// `request(...)` on a thread of its own, so the wait never blocks a thread of the Swift
    /// concurrency pool (other tasks' timers run there).
    public static func fetch(
        port: Int, method: String = "GET", path: String, headers: [(String, String)] = [],
        body: [UInt8] = [], timeoutSeconds: Int = 5
    ) async -> Response? {
        await withCheckedContinuation { (done: CheckedContinuation<Response?, Never>) in
            Thread {
                done.resume(
                    returning: request(
                        port: port, method: method, path: path, headers: headers, body: body,
                        timeoutSeconds: timeoutSeconds))
            }.start()
        }
    }

    /// One request (`Connection: close`); nil when the connection failed or no complete status line
    /// arrived within `timeoutSeconds`.
    public static func request(
        port: Int, method: String = "GET", path: String, headers: [(String, String)] = [],
        body: [UInt8] = [], timeoutSeconds: Int = 5
    ) -> Response? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withLoopbackAddress(port: port) { connect(fd, $0, $1) }
        guard connected == 0 else { return nil }
        var head =
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may have answered already: read what it said
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard response.count >= 12, response.starts(with: Array("HTTP/1.".utf8)),
            let end = (0...(response.count - 4)).first(where: { response[$0..<$0 + 4].elementsEqual(separator) })
        else { return nil }
        let lines = String(decoding: response[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12, let status = Int(statusLine.dropFirst(9).prefix(3))
        else {
            return nil
        }
        let fields = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Response(status: status, headers: fields, body: Array(response[(end + 4)...]))
    }
}

import Foundation
import Testing

/// The package root, from this file's path.
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `fluxtel` binary built by `swift build` (scripts/test builds it before the tests).
func fluxtelBinary() throws -> URL {
    for configuration in ["debug", "release"] {
        let url = packageRoot.appendingPathComponent(".build/\(configuration)/fluxtel")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    Issue.record("no fluxtel binary under .build/: run `swift build --product fluxtel` (scripts/test does)")
    throw CancellationError()
}

struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the binary to completion (bounded by `timeout`).
func runFluxtel(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) async throws -> Finished {
    let process = try startFluxtel(arguments, environment: environment)
    return try await process.wait(timeout: timeout)
}

final class RunningProcess: @unchecked Sendable {
    let process: Process
    let stdout = Pipe()
    let stderr = Pipe()
    init(process: Process) { self.process = process }

    var pid: Int32 { process.processIdentifier }

    func wait(timeout: Duration) async throws -> Finished {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            Issue.record("fluxtel did not exit within \(timeout)")
        }
        process.waitUntilExit()
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Finished(status: process.terminationStatus, stdout: out, stderr: err)
    }
}

func startFluxtel(_ arguments: [String], environment: [String: String] = [:]) throws -> RunningProcess {
    let process = Process()
    process.executableURL = try fluxtelBinary()
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let running = RunningProcess(process: process)
    process.standardOutput = running.stdout
    process.standardError = running.stderr
    try process.run()
    return running
}

/// A port that was free a moment ago on 127.0.0.1.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// One blocking HTTP/1.1 request to 127.0.0.1 (Connection: close); returns status and body.
func httpRequest(port: Int, method: String = "GET", path: String, headers: [(String, String)] = [], body: [UInt8] = [],
                 timeoutSeconds: Int = 5) -> (status: Int, body: [UInt8])? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    head += "\r\n"
    let request = Array(head.utf8) + body
    var sent = 0
    while sent < request.count {
        // MSG_NOSIGNAL: a server that answers early (413) and closes must not SIGPIPE the tests.
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
    let text = String(decoding: response, as: UTF8.self)
    guard text.hasPrefix("HTTP/1."), let space = text.firstIndex(of: " ") else { return nil }
    let status = Int(text[text.index(after: space)...].prefix(3)) ?? 0
    let separator: [UInt8] = [13, 10, 13, 10]
    var bodyStart = response.count
    if response.count >= 4 {
        for index in 0...(response.count - 4) where Array(response[index..<index + 4]) == separator {
            bodyStart = index + 4
            break
        }
    }
    return (status, Array(response[bodyStart...]))
}

import FluxtelTestSupport
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
    LoopbackHTTP.request(port: port, method: method, path: path, headers: headers, body: body, timeoutSeconds: timeoutSeconds)
        .map { ($0.status, $0.body) }
}

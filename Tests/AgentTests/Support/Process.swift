import FluxtelTestSupport
import Foundation
import Testing

/// The package root, from this file's path.
let packageRoot: URL = InteropPython.packageRoot

struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the binary to completion (`timeout` only catches a hang).
func runFluxtel(
    _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
) async throws -> Finished {
    let process = try startFluxtel(arguments, environment: environment)
    return try await process.finish(timeout: timeout)
}

/// Starts the binary; stdout and stderr go to temporary files (see `AgentProcess`).
func startFluxtel(
    _ arguments: [String], environment: [String: String] = [:], wrapper: [String] = []
) throws -> AgentProcess {
    try AgentProcess(arguments, logPrefix: temporaryPath("agent"), environment: environment, wrapper: wrapper)
}

extension AgentProcess {
    /// Waits for the process to end (killed after `timeout`, a hang bound, which is recorded as an
    /// issue) and returns its status and output.
    func finish(
        timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Finished {
        let exit = try await wait(timeout: timeout)
        if exit == nil {
            Issue.record("fluxtel did not exit within \(TestTime.scaled(timeout))", sourceLocation: sourceLocation)
        }
        return Finished(status: exit?.status ?? -1, stdout: stdout, stderr: stderr)
    }
}

/// One HTTP/1.1 request to 127.0.0.1 (Connection: close) on a thread of its own; returns status and
/// body. `timeoutSeconds` only catches a hang (an answer that waits for an fsync on a loaded machine
/// is slow, not lost).
func httpRequest(
    port: Int, method: String = "GET", path: String, headers: [(String, String)] = [], body: [UInt8] = [],
    timeoutSeconds: Int = 60
) async -> (status: Int, body: [UInt8])? {
    await LoopbackHTTP.fetch(
        port: port, method: method, path: path, headers: headers, body: body, timeoutSeconds: timeoutSeconds
    )
    .map { ($0.status, $0.body) }
}

import Foundation

/// Where the interop tests find the official OpenTelemetry Python packages (pinned in
/// Tests/Interop/requirements.txt): `FLUXTEL_PYTHON`, else `<package root>/.venv/bin/python3`
/// (what `./scripts/bootstrap --python` creates). Without one, interop tests fail; they never skip.
public enum InteropPython {
    /// The package root, from this file's path.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// The interpreter's path, or an error saying how to create it.
    public static func path() throws -> String {
        let path =
            ProcessInfo.processInfo.environment["FLUXTEL_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? packageRoot.appendingPathComponent(".venv/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(
                description: """
                    no Python for the interop tests at \(path): run ./scripts/bootstrap --python (creates .venv from \
                    Tests/Interop/requirements.txt) or set FLUXTEL_PYTHON
                    """)
        }
        return path
    }
}

/// Runs `Tests/Interop/otlp_golden.py` (the "every field" golden requests built with the official
/// classes) and exchanges files with it.
public enum GoldenScript {
    /// Runs `otlp_golden.py args...`; returns (exit status, stdout+stderr).
    public static func run(_ args: [String]) throws -> (status: Int32, output: String) {
        try runProcess(
            try InteropPython.path(),
            [InteropPython.packageRoot.appendingPathComponent("Tests/Interop/otlp_golden.py").path] + args)
    }

    /// A path in a per-process temporary directory.
    public static func tempFile(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "fluxtel-interop-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir + "/" + name
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    public static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

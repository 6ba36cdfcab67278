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
        let path = ProcessInfo.processInfo.environment["FLUXTEL_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? packageRoot.appendingPathComponent(".venv/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: """
                no Python for the interop tests at \(path): run ./scripts/bootstrap --python (creates .venv from \
                Tests/Interop/requirements.txt) or set FLUXTEL_PYTHON
                """)
        }
        return path
    }
}

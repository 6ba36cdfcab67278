import Foundation
import Testing

/// The hand-written command line of the real binary: forms, help, version, errors and exit codes.
@Suite(.serialized) struct CommandLineTests {
    func config(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxtel-cli-\(UUID().uuidString).yaml"
        ).path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let valid = "exporters:\n  debug: {}\n"

    @Test func validateTakesTheFileInEveryForm() async throws {
        let path = try config(Self.valid)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for arguments in [
            ["validate", path], ["validate", "--config", path], ["validate", "-c", path],
            ["validate", "--config=\(path)"],
        ] {
            let result = try await runFluxtel(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout == "\(path): ok\n", "\(arguments)")
        }
    }

    @Test func invalidConfigurationExitCodes() async throws {
        let path = try config("processors:\n  batch:\n    max_itmes: 10\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let validate = try await runFluxtel(["validate", path])
        #expect(validate.status == 1)
        #expect(validate.stderr.contains(":3:5"), "\(validate.stderr)")
        // `run` with a bad file: exit 2 before anything starts, the same message.
        for arguments in [["--config", path], ["run", "--config", path], ["run", "-c", path]] {
            let run = try await runFluxtel(arguments)
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stderr.contains(":3:5"), "\(arguments): \(run.stderr)")
        }
        let missing = try await runFluxtel(["validate", "/nonexistent/fluxtel.yaml"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent/fluxtel.yaml"), "\(missing.stderr)")
    }

    @Test func helpAndVersion() async throws {
        for arguments in [["--help"], ["-h"], ["help"], ["run", "--help"], ["validate", "-h"], ["help", "validate"]] {
            let result = try await runFluxtel(arguments)
            #expect(result.status == 0, "\(arguments)")
            #expect(result.stdout.contains("USAGE: fluxtel"), "\(arguments): \(result.stdout)")
        }
        #expect(try await runFluxtel(["validate", "--help"]).stdout.contains("USAGE: fluxtel validate"))
        for arguments in [["--version"], ["run", "--version"]] {
            let result = try await runFluxtel(arguments)
            #expect(result.status == 0)
            #expect(result.stdout.first?.isNumber == true, "\(result.stdout)")
            #expect(result.stdout.hasSuffix("\n"))
        }
    }

    @Test func usageErrorsExit64WithAClearMessage() async throws {
        let cases: [([String], String)] = [
            (["--bogus"], "Unknown option '--bogus'"),
            (["--config"], "Missing value for '--config <file>'"),
            (["validate"], "Missing expected argument '<file>'"),
            (["validate", "a.yaml", "b.yaml"], "Unexpected argument 'b.yaml'"),
            (["frobnicate"], "Unknown subcommand or argument 'frobnicate'"),
            (["run", "extra"], "Unexpected argument 'extra'"),
            (["--config", "a.yaml", "-c", "b.yaml"], "'--config' given twice"),
        ]
        for (arguments, message) in cases {
            let result = try await runFluxtel(arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.hasPrefix("Error: \(message)\n"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("USAGE: fluxtel"), "\(arguments)")
            #expect(result.stdout.isEmpty)
        }
    }
}

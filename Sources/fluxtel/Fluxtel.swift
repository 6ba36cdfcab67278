import Agent
import ArgumentParser
import FluxtelConfig
import Logging
import SelfTelemetry

#if canImport(Glibc)
import Glibc
#endif

@main
struct Fluxtel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxtel",
        abstract: "OpenTelemetry agent for FluxCD: scrapes gotk_* metrics, tails controller logs, receives spans, exports OTLP/HTTP.",
        version: FluxtelVersion.string,
        subcommands: [Run.self, Validate.self],
        defaultSubcommand: Run.self
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the agent (the default). Without --config it runs the embedded Flux defaults.")

    @Option(name: .shortAndLong, help: "Configuration file (YAML). Default: the embedded Flux defaults.")
    var config: String?

    func run() async throws {
        let environment = ProcessEnvironment.current()
        let configuration: AgentConfiguration
        do {
            configuration = try config.map { try ConfigLoader.load(path: $0, environment: environment) }
                ?? ConfigLoader.loadDefault(environment: environment)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: configuration.service.logLevel) ?? .info
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        var logger = Logger(label: "fluxtel")
        logger.logLevel = level
        let agent: Agent
        do {
            agent = try Agent(configuration: configuration, logger: logger)
        } catch {
            logger.critical("Cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        try await agent.run()
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a configuration file and print every error found (file:line:column: message).")

    @Option(name: .shortAndLong, help: "Configuration file (YAML) to check.")
    var config: String

    func run() throws {
        do {
            _ = try ConfigLoader.load(path: config, environment: ProcessEnvironment.current())
            print("\(config): ok")
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

func printError(_ message: String) {
    var line = Array(message.utf8)
    if line.last != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

enum ProcessEnvironment {
    /// The process environment as a dictionary (no Foundation).
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

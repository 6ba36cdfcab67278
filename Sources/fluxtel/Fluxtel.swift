import Agent
import FluxtelConfig
import Logging
import SelfTelemetry

#if canImport(Glibc)
import Glibc
#endif

/// Exit codes: 0 ok, 1 the agent could not start or `validate` found errors, 2 the configuration
/// of `run` is invalid, 64 (EX_USAGE) a wrong command line.
@main
enum Fluxtel {
    static func main() async {
        let command: Command
        do {
            command = try CommandLineParser.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            printError("\(error)")
            exit(64)
        }
        switch command {
        case .help(let usage):
            print(usage)
        case .version:
            print(FluxtelVersion.string)
        case .validate(let config):
            exit(validate(config: config))
        case .run(let config):
            exit(await run(config: config))
        }
    }

    static func run(config: String?) async -> Int32 {
        let environment = ProcessEnvironment.current()
        let configuration: AgentConfiguration
        do {
            configuration = try config.map { try ConfigLoader.load(path: $0, environment: environment) }
                ?? ConfigLoader.loadDefault(environment: environment)
        } catch {
            printError("\(error)")
            return 2
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
            return 1
        }
        do {
            try await agent.run()
        } catch {
            printError("Error: \(error)")
            return 1
        }
        return 0
    }

    static func validate(config: String) -> Int32 {
        do {
            _ = try ConfigLoader.load(path: config, environment: ProcessEnvironment.current())
            print("\(config): ok")
            return 0
        } catch {
            printError("\(error)")
            return 1
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

/// The command line, parsed by hand (swift-argument-parser pulled FoundationEssentials into the binary):
///
///     fluxtel [run] [--config FILE]
///     fluxtel validate [--config] FILE
///     fluxtel --version | --help
///
/// `-c FILE` and `--config=FILE` work too; `help` and `-h` are `--help`.
enum Command: Equatable {
    case run(config: String?)
    case validate(config: String, environment: Bool)
    case version
    case help(String)
}

struct UsageError: Error, Equatable, CustomStringConvertible {
    var message: String
    /// The help of the command the mistake was made in.
    var usage: String
    var description: String { "Error: \(message)\n\(usage)" }
}

enum CommandLineParser {
    static let mainUsage = """
        OVERVIEW: OpenTelemetry agent for FluxCD: scrapes gotk_* metrics, tails controller logs, receives spans, exports OTLP/HTTP.

        USAGE: fluxtel [run] [--config <file>]
               fluxtel validate [--config] <file>

        OPTIONS:
          -c, --config <file>     Configuration file (YAML). Default: the embedded Flux defaults.
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          run (default)           Run the agent. Without --config it runs the embedded Flux defaults.
          validate                Check a configuration file and print every error found (file:line:column: message).

          See 'fluxtel help <subcommand>' for detailed help.
        """

    static let runUsage = """
        OVERVIEW: Run the agent (the default). Without --config it runs the embedded Flux defaults.

        USAGE: fluxtel run [--config <file>]

        OPTIONS:
          -c, --config <file>     Configuration file (YAML). Default: the embedded Flux defaults.
          --version               Show the version.
          -h, --help              Show help information.
        """

    static let validateUsage = """
        OVERVIEW: Check a configuration file and print every error found (file:line:column: message).

        USAGE: fluxtel validate [--environment] [--config] <file>

        OPTIONS:
          -c, --config <file>     Configuration file (YAML) to check.
          --environment           Also check this machine as `run` would: TLS and token files readable,
                                  checkpoint and queue directories writable, kubernetes_sd in a cluster.
          --version               Show the version.
          -h, --help              Show help information.
        """

    /// `arguments` without the program name.
    static func parse(_ arguments: [String]) throws(UsageError) -> Command {
        var rest = arguments[...]
        var subcommand = "run"
        var usage = mainUsage
        if let first = rest.first {
            switch first {
            case "run", "validate":
                subcommand = first
                usage = first == "run" ? runUsage : validateUsage
                rest = rest.dropFirst()
            case "help":
                switch rest.dropFirst().first {
                case nil: return .help(mainUsage)
                case "run": return .help(runUsage)
                case "validate": return .help(validateUsage)
                case let other?: throw UsageError(message: "Unknown subcommand '\(other)'", usage: mainUsage)
                }
            default: break
            }
        }
        var config: String?
        var environment = false
        var positional: [String] = []
        while let argument = rest.popFirst() {
            switch argument {
            case "-h", "--help", "-help":
                return .help(usage)
            case "--version":
                return .version
            case "-c", "--config":
                guard let value = rest.popFirst(), !value.hasPrefix("-") || value == "-" else {
                    throw UsageError(message: "Missing value for '\(argument) <file>'", usage: usage)
                }
                guard config == nil else { throw UsageError(message: "'--config' given twice", usage: usage) }
                config = value
            case "--environment" where subcommand == "validate":
                environment = true
            case "--":
                positional += rest
                rest = []
            default:
                if argument.hasPrefix("--config=") {
                    guard config == nil else { throw UsageError(message: "'--config' given twice", usage: usage) }
                    config = String(argument.dropFirst("--config=".count))
                } else if argument.hasPrefix("-"), argument != "-" {
                    throw UsageError(message: "Unknown option '\(argument)'", usage: usage)
                } else {
                    positional.append(argument)
                }
            }
        }
        switch subcommand {
        case "validate":
            if config == nil, positional.count == 1 {
                return .validate(config: positional[0], environment: environment)
            }
            guard positional.isEmpty else {
                throw UsageError(message: "Unexpected argument '\(positional[config == nil ? 1 : 0])'", usage: usage)
            }
            guard let config else { throw UsageError(message: "Missing expected argument '<file>'", usage: usage) }
            return .validate(config: config, environment: environment)
        default:
            if let first = positional.first {
                let message =
                    subcommand == "run" && arguments.first != "run"
                    ? "Unknown subcommand or argument '\(first)'" : "Unexpected argument '\(first)'"
                throw UsageError(message: message, usage: usage)
            }
            return .run(config: config)
        }
    }
}

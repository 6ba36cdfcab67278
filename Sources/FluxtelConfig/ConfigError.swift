/// One problem in a configuration file: where it is and what is wrong with it.
///
/// `description` is the compiler-style line the CLI prints:
/// `fluxtel.yaml:12:5: unknown key 'max_itmes' in processors.batch (known: max_items, max_bytes, timeout)`.
/// Errors that have no position (an unreadable file) have `line == 0` and print as `path: message`.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is, for matching in code and tests; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case unreadableFile, syntax, multipleDocuments, tooComplex
            case unknownKey, duplicateKey, missingKey, wrongType, invalidValue, environment
        }
        let base: Base

        /// The file could not be opened or read.
        public static let unreadableFile = Code(base: .unreadableFile)
        /// libyaml rejected the text.
        public static let syntax = Code(base: .syntax)
        /// More than one YAML document (`---`) in the file.
        public static let multipleDocuments = Code(base: .multipleDocuments)
        /// Too deep, too many nodes (alias bombs), unknown or recursive aliases.
        public static let tooComplex = Code(base: .tooComplex)
        /// A key the configuration does not know.
        public static let unknownKey = Code(base: .unknownKey)
        /// The same key twice in one mapping.
        public static let duplicateKey = Code(base: .duplicateKey)
        /// A key that must be present is not.
        public static let missingKey = Code(base: .missingKey)
        /// A mapping where a sequence or scalar belongs, and so on.
        public static let wrongType = Code(base: .wrongType)
        /// A scalar of the right shape with a bad value: duration, size, number, enum, URL, address.
        public static let invalidValue = Code(base: .invalidValue)
        /// `${env:NAME}` without a default for a variable that is not set, or a malformed `${…}`.
        public static let environment = Code(base: .environment)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// The file name or path as given to the loader.
    public let file: String
    /// 1-based; 0 when the error has no position.
    public let line: Int
    /// 1-based; 0 when the error has no position.
    public let column: Int
    /// What is wrong and what is allowed, without the position.
    public let message: String

    public init(code: Code, file: String, line: Int, column: Int, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// Every problem found in one configuration file, in file order. Thrown by `ConfigLoader`.
public struct ConfigErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) { self.errors = errors }

    /// One error per line, ready for stderr.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

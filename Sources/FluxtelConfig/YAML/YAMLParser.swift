import CYAML

/// Builds a `YAMLNode` tree from libyaml's event stream (`yaml_parser_parse`).
///
/// libyaml does the hard part (scanning, escapes, block and flow styles, encodings); this layer
/// only stacks events into nodes, keeps the start mark of each, resolves aliases and enforces the
/// limits that make a hostile file harmless: a nesting depth limit (the tree is built without
/// recursion, and a shallow tree is destroyed without deep recursion) and a node-count limit that
/// counts every alias expansion (so a "billion laughs" file fails after `maxNodes`, not after the
/// memory is gone).
struct YAMLParser {
    /// Most nodes a document may expand to, aliases counted at full size each time they are used.
    var maxNodes = 100_000
    /// Deepest nesting of sequences and mappings.
    var maxDepth = 256

    /// Parses one YAML document. Returns nil for a stream with no document (empty file, only
    /// comments). Throws a single error: libyaml cannot recover from a syntax error.
    func parse(_ text: String, fileName: String) throws(ConfigErrors) -> YAMLNode? {
        try parse(bytes: Array(text.utf8), fileName: fileName)
    }

    /// Parses UTF-8 (or UTF-16 with a BOM) bytes as libyaml reads them.
    func parse(bytes: [UInt8], fileName: String) throws(ConfigErrors) -> YAMLNode? {
        var bytes = bytes
        let count = bytes.count
        if bytes.isEmpty { bytes = [0] }  // libyaml asserts a non-null input pointer
        var builder = Builder(fileName: fileName, maxNodes: maxNodes, maxDepth: maxDepth)
        let result: Result<YAMLNode?, ConfigError> = bytes.withUnsafeBufferPointer { buffer in
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else {
                return .failure(builder.error(.syntax, "cannot initialize the YAML parser", line: 0, column: 0))
            }
            defer { yaml_parser_delete(parser) }
            yaml_parser_set_input_string(parser, buffer.baseAddress, count)
            var event = yaml_event_t()
            while true {
                guard yaml_parser_parse(parser, &event) == 1 else {
                    return .failure(Self.syntaxError(parser.pointee, fileName: fileName))
                }
                defer { yaml_event_delete(&event) }
                switch builder.handle(event) {
                case .continue: continue
                case .done(let root): return .success(root)
                case .failed(let error): return .failure(error)
                }
            }
        }
        switch result {
        case .success(let root): return root
        case .failure(let error): throw ConfigErrors([error])
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, fileName: String) -> ConfigError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        var message = "YAML syntax error: \(problem)"
        if let context = parser.context {
            let contextLine = Int(parser.context_mark.line) + 1
            let contextColumn = Int(parser.context_mark.column) + 1
            message += " (\(String(cString: context)) at line \(contextLine), column \(contextColumn))"
        }
        var line = Int(parser.problem_mark.line) + 1
        var column = Int(parser.problem_mark.column) + 1
        if parser.error == YAML_READER_ERROR {
            // Reader errors (bad encoding, control characters) carry a byte offset, not a mark.
            line = 1
            column = 1
            message += " at byte offset \(parser.problem_offset)"
        }
        return ConfigError(code: .syntax, file: fileName, line: line, column: column, message: message)
    }
}

private struct Builder {
    enum Step {
        case `continue`
        case done(YAMLNode?)
        case failed(ConfigError)
    }

    private struct Frame {
        var isMapping: Bool
        var line: Int
        var column: Int
        var anchor: String?
        var children: [YAMLNode] = []
        var nodeCount = 1
    }

    let fileName: String
    let maxNodes: Int
    let maxDepth: Int
    private var stack: [Frame] = []
    private var anchors: [String: (node: YAMLNode, count: Int)] = [:]
    private var openAnchors: Set<String> = []
    private var totalNodes = 0
    private var root: YAMLNode?
    private var documents = 0

    init(fileName: String, maxNodes: Int, maxDepth: Int) {
        self.fileName = fileName
        self.maxNodes = maxNodes
        self.maxDepth = maxDepth
    }

    func error(_ code: ConfigError.Code, _ message: String, line: Int, column: Int) -> ConfigError {
        ConfigError(code: code, file: fileName, line: line, column: column, message: message)
    }

    mutating func handle(_ event: yaml_event_t) -> Step {
        let line = Int(event.start_mark.line) + 1
        let column = Int(event.start_mark.column) + 1
        switch event.type {
        case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
            return .continue
        case YAML_STREAM_END_EVENT:
            return .done(root)
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            guard documents == 1 else {
                return .failed(
                    error(
                        .multipleDocuments,
                        "a second YAML document starts here; a configuration file holds exactly one (remove the '---')",
                        line: line, column: column))
            }
            return .continue
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let value = Self.string(data.value, length: data.length) ?? ""
            let style: YAMLScalar.Style
            switch data.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let tag = Self.string(data.tag)
            let node = YAMLNode(.scalar(YAMLScalar(value, style: style, tag: tag)), line: line, column: column)
            return add(node, count: 1, anchor: Self.string(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let anchored = anchors[name] else {
                let why =
                    openAnchors.contains(name)
                    ? "refers to a node that contains it (recursive alias)" : "refers to no anchor"
                return .failed(
                    error(
                        .tooComplex, "alias *\(name) \(why); define &\(name) before using it", line: line,
                        column: column))
            }
            return add(anchored.node, count: anchored.count, anchor: nil, line: line, column: column)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            guard stack.count < maxDepth else {
                return .failed(error(.tooComplex, "nesting deeper than \(maxDepth) levels", line: line, column: column))
            }
            let anchor = Self.string(isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
            if let anchor { openAnchors.insert(anchor) }
            stack.append(Frame(isMapping: isMapping, line: line, column: column, anchor: anchor))
            return .continue
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return .continue }
            if let anchor = frame.anchor { openAnchors.remove(anchor) }
            let content: YAMLNode.Content
            if frame.isMapping {
                var entries: [YAMLMappingEntry] = []
                entries.reserveCapacity(frame.children.count / 2)
                var index = 0
                while index + 1 < frame.children.count {
                    entries.append(YAMLMappingEntry(key: frame.children[index], value: frame.children[index + 1]))
                    index += 2
                }
                content = .mapping(entries)
            } else {
                content = .sequence(frame.children)
            }
            // Children were counted as they arrived; count only this node now.
            totalNodes -= frame.nodeCount - 1
            return add(
                YAMLNode(content, line: frame.line, column: frame.column), count: frame.nodeCount, anchor: frame.anchor)
        default:
            return .continue
        }
    }

    /// Attaches a finished node (`count` nodes including copies from aliases) to its parent.
    /// `line`/`column` locate the event for the limit error (an alias's copy keeps the anchor's position).
    private mutating func add(
        _ node: YAMLNode, count: Int, anchor: String?, line: Int? = nil, column: Int? = nil
    )
        -> Step
    {
        totalNodes += count
        guard totalNodes <= maxNodes else {
            return .failed(
                error(
                    .tooComplex,
                    "document expands to more than \(maxNodes) nodes (aliases counted each time they are used)",
                    line: line ?? node.line, column: column ?? node.column))
        }
        if let anchor { anchors[anchor] = (node, count) }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
            stack[stack.count - 1].nodeCount += count
        }
        return .continue
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int? = nil) -> String? {
        guard let pointer else { return nil }
        let count = length ?? strlen(pointer)
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    private static func strlen(_ pointer: UnsafeMutablePointer<yaml_char_t>) -> Int {
        var count = 0
        while pointer[count] != 0 { count += 1 }
        return count
    }
}

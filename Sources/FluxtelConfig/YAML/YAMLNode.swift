/// A node of a parsed YAML document, with the 1-based line and column where it starts.
///
/// This is all the configuration loader needs of YAML: scalars keep their text, style and tag
/// (so `"30"` and `30` can be told apart when it matters, and `!!str null` is not null); mappings
/// keep their keys as nodes and in file order (so duplicate keys and key positions can be reported).
/// Aliases are already resolved: an alias is a copy of its anchored node, positions included.
struct YAMLNode: Sendable, Equatable {
    enum Content: Sendable, Equatable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLMappingEntry])
    }

    var content: Content
    /// 1-based line of the node's first character (for quoted scalars: the quote).
    var line: Int
    /// 1-based column of the node's first character.
    var column: Int

    init(_ content: Content, line: Int, column: Int) {
        self.content = content
        self.line = line
        self.column = column
    }

    /// `a mapping`, `a sequence`, `a scalar 'x'`, `null`: for "expected …, got …" messages.
    var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .scalar(let scalar): return scalar.isNull ? "null" : "a scalar ('\(scalar.value)')"
        }
    }

    var scalar: YAMLScalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    /// True for an explicit or implicit null (`key:` with nothing after it, `~`, `null`).
    var isNull: Bool { scalar?.isNull ?? false }
}

struct YAMLMappingEntry: Sendable, Equatable {
    var key: YAMLNode
    var value: YAMLNode
}

struct YAMLScalar: Sendable, Equatable {
    enum Style: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// The scalar's text, escapes and folding already applied by libyaml.
    var value: String
    var style: Style
    /// The resolved tag (`tag:yaml.org,2002:str` for `!!str`), nil when the scalar has none.
    var tag: String?

    init(_ value: String, style: Style = .plain, tag: String? = nil) {
        self.value = value
        self.style = style
        self.tag = tag
    }

    var isPlain: Bool { style == .plain }

    /// YAML 1.2 core schema nulls, only for untagged plain scalars (quoted `"null"` is a string).
    var isNull: Bool {
        if tag == "tag:yaml.org,2002:null" { return true }
        guard tag == nil, style == .plain else { return false }
        switch value {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }
}

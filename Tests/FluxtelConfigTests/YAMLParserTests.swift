import Testing

@testable import FluxtelConfig

@Suite struct YAMLParserTests {
    private func parse(_ text: String, parser: YAMLParser = YAMLParser()) throws -> YAMLNode? {
        try parser.parse(text, fileName: "t.yaml")
    }

    private func parseError(_ text: String, parser: YAMLParser = YAMLParser()) -> ConfigError? {
        do {
            _ = try parser.parse(text, fileName: "t.yaml")
            return nil
        } catch {
            return error.errors.first
        }
    }

    @Test func nodesCarryLineAndColumn() throws {
        let root = try #require(try parse("a:\n  b: [x, 'y']\n  c: \"z\"\n"))
        guard case .mapping(let top) = root.content, case .mapping(let inner) = top[0].value.content else {
            Issue.record("expected mappings")
            return
        }
        #expect((root.line, root.column) == (1, 1))
        #expect((inner[0].key.line, inner[0].key.column) == (2, 3))
        guard case .sequence(let items) = inner[0].value.content else {
            Issue.record("expected a sequence")
            return
        }
        #expect((items[1].line, items[1].column) == (2, 10))
        #expect(items[1].scalar == YAMLScalar("y", style: .singleQuoted))
        #expect(inner[1].value.scalar == YAMLScalar("z", style: .doubleQuoted))
        #expect((inner[1].value.line, inner[1].value.column) == (3, 6))
    }

    @Test func mappingsKeepOrderAndDuplicates() throws {
        let root = try #require(try parse("b: 1\na: 2\nb: 3\n"))
        guard case .mapping(let entries) = root.content else {
            Issue.record("expected a mapping")
            return
        }
        #expect(entries.map { $0.key.scalar?.value } == ["b", "a", "b"])
    }

    @Test func scalarsKeepStyleTagAndNull() throws {
        let root = try #require(
            try parse("- plain\n- 'single'\n- \"double\"\n- |\n  literal\n- >\n  folded\n- !!str null\n- ~\n-\n"))
        guard case .sequence(let items) = root.content else {
            Issue.record("expected a sequence")
            return
        }
        #expect(
            items.map { $0.scalar?.style } == [
                .plain, .singleQuoted, .doubleQuoted, .literal, .folded, .plain, .plain, .plain,
            ])
        #expect(items[3].scalar?.value == "literal\n")
        #expect(items[5].scalar?.tag == "tag:yaml.org,2002:str")
        #expect(items.map(\.isNull) == [false, false, false, false, false, false, true, true])
    }

    @Test func aliasesResolveToTheAnchoredNode() throws {
        let root = try #require(try parse("base: &b { x: 1 }\ncopy: *b\nlist: [&s v, *s]\n"))
        guard case .mapping(let entries) = root.content, case .sequence(let list) = entries[2].value.content else {
            Issue.record("expected a mapping with a list")
            return
        }
        #expect(entries[1].value == entries[0].value)
        #expect(list[0] == list[1])
        #expect(list[1].scalar?.value == "v")
    }

    @Test func aliasesWorkInAConfiguration() throws {
        let configuration = try #require(
            load(
                """
                receivers:
                  prometheus:
                    targets:
                      - url: http://a:8080/metrics
                        labels: &team { team: flux }
                      - url: http://b:8080/metrics
                        labels: *team
                """))
        #expect(
            configuration.receivers.prometheus?.targets.map(\.labels) == [
                [KeyValuePair("team", "flux")], [KeyValuePair("team", "flux")],
            ])
    }

    @Test func aliasBombHitsTheNodeLimit() {
        var text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text +=
                "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        let error = parseError(text)
        #expect(error?.code == .tooComplex)
        #expect(
            error?.description
                == "t.yaml:5:45: document expands to more than 100000 nodes (aliases counted each time they are used)")
    }

    @Test func recursiveAliasIsRejected() {
        let error = parseError("a: &a [1, *a]\n")
        #expect(
            error?.description
                == "t.yaml:1:11: alias *a refers to a node that contains it (recursive alias); define &a before using it"
        )
    }

    @Test func deepNestingIsRejected() {
        let error = parseError(String(repeating: "[", count: 10_000))
        #expect(error?.description == "t.yaml:1:257: nesting deeper than 256 levels")
    }

    @Test func emptyStreamHasNoDocument() throws {
        #expect(try parse("") == nil)
        #expect(try parse("# comment only\n\n") == nil)
        #expect(try parse("---\n")?.isNull == true)
    }

    @Test func secondDocumentIsRejected() {
        #expect(parseError("a: 1\n...\n---\nb: 2\n")?.code == .multipleDocuments)
        #expect(parseError("a: 1\n---\nb: 2\n")?.line == 2)
    }

    @Test func syntaxErrorNamesProblemAndPosition() {
        let error = parseError("key: \"unterminated\n")
        #expect(error?.code == .syntax)
        #expect(error?.description.hasPrefix("t.yaml:2:1: YAML syntax error: found unexpected end of stream") == true)
    }

    @Test func tabIndentationIsASyntaxError() {
        let error = parseError("a:\n\tb: 1\n")
        #expect(error?.code == .syntax)
        #expect(error?.line == 2)
    }
}

import OTLPJSON
import Testing

/// The tree the Kubernetes client reads, built by the OTLP/JSON reader.
@Suite struct JSONValueTests {
    @Test func edgesAndGarbage() throws {
        let value = try JSONValue.parse(
            Array(#"{"a":[1,-2.5e3,true,false,null,"x\u00e9\ud83d\ude00\n"],"k\u0041":{}}"#.utf8))
        #expect(value["a"]?.array?[1] == .number(-2500))
        #expect(value["a"]?.array?[0].int == 1)
        #expect(value["a"]?.array?[5] == .string("xé😀\n"))
        #expect(value["kA"] == .object([:]))
        for garbage in [
            "", "{", "{\"a\"}", "[1,]", "\"\\ud800\"", "tru", "{\"a\":1}x", String(repeating: "[", count: 500), "01",
            "1e999", "\"\u{01}\"",
        ] {
            #expect(throws: OTLPJSONError.self) { try JSONValue.parse(Array(garbage.utf8)) }
        }
    }

    @Test func encodesCompactlyWithSortedKeysAndRoundTrips() throws {
        let text = #"{"b":[1,2.5,"q\"\n"],"a":{"z":null,"y":true},"n":-7}"#
        let value = try JSONValue.parse(Array(text.utf8))
        let encoded = value.encoded()
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"a":{"y":true,"z":null},"b":[1,2.5,"q\"\n"],"n":-7}"#)
        #expect(try JSONValue.parse(encoded) == value)
    }

    @Test func settingAMemberOfANestedObject() {
        var value = JSONValue.object(["metadata": .object(["name": .string("x")])])
        value["metadata"]?["resourceVersion"] = .string("7")
        value["missing"]?["x"] = .null  // no such member: nothing happens
        #expect(value == .object(["metadata": .object(["name": .string("x"), "resourceVersion": .string("7")])]))
    }
}

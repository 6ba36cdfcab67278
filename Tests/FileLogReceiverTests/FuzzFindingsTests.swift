@testable import FileLogReceiver
import OTLPWire
import Testing

/// Inputs the libFuzzer targets (Fuzz/FuzzLogLine, Fuzz/FuzzFluxJSON) found, kept as regression tests.
@Suite struct FileLogFuzzFindingsTests {
    /// FuzzFluxJSON (seed big-numbers.json): a valid JSON number beyond Double's range made the whole
    /// line fall back to raw text; it is now the number's text, and the line keeps its structure.
    @Test func numberBeyondDoubleKeepsTheLineStructured() throws {
        let record = try encode(#"{"i":123456789012345678901,"d":1e400,"m":-0,"e":1E-7,"n":-1e400,"msg":"m"}"#)
        #expect(record.body == .string("m"))
        #expect(record.attribute("d") == .string("1e400"))
        #expect(record.attribute("n") == .string("-1e400"))
        #expect(record.attribute("i") == .double(123456789012345678901))
        #expect(record.attribute("m") == .int(0))
        #expect(record.attribute("e") == .double(1e-7))
    }

    /// The same number as `ts` is not a time: it stays an attribute (as text), the runtime's time is used.
    @Test func timestampBeyondDoubleIsAnAttribute() throws {
        let record = try encode(#"{"ts":1e400,"msg":"m"}"#)
        #expect(record.attribute("ts") == .string("1e400"))
        #expect(record.timeUnixNano == 1_786_525_201_000_000_000)
    }
}

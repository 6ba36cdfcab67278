import Processors
import Testing

@Suite struct SHA256Tests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func digest(_ text: String) -> String { hex(SHA256.hash(Array(text.utf8))) }

    /// FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf", "SHA256_2.pdf") and the empty message.
    @Test func fipsVectors() {
        #expect(Self.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Self.digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Self.digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            Self.hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the padding boundaries (55/56 bytes: one or two final blocks), against Python's hashlib.
    @Test func paddingBoundaries() {
        let expected: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
            119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
            120: "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c",
        ]
        for (count, digest) in expected {
            #expect(Self.hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: count))) == digest, "\(count)")
        }
    }

    /// Incremental updates give the one-shot digest.
    @Test func incremental() {
        var sha = SHA256()
        sha.update(Array("abcdbcdecdefdefgefghfghighij".utf8))
        sha.update(Array("hijkijkljklmklmnlmnomnopnopq".utf8))
        #expect(Self.hex(sha.finalize()) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// notification-controller's trace id for the shared fixtures' Alert and commit (`otel-spans.json`).
    @Test func notificationControllerTraceID() {
        let id = FluxCorrelationState.traceID(
            alertUID: "bc0276ea-183a-4bbc-84eb-7f30d338ce1e",
            revision: "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b")
        #expect(Self.hex(id) == "fc43ff52473a9f8c2bab18cc9c7a5e70")
    }
}

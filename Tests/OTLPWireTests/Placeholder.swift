import Testing
@Test func placeholderOTLPWireTests() { #expect(Bool(true)) }

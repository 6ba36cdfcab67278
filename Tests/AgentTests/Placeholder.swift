import Testing
@Test func placeholderAgentTests() { #expect(Bool(true)) }

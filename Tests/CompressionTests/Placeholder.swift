import Testing
@Test func placeholderCompressionTests() { #expect(Bool(true)) }

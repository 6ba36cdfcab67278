import Testing
@Test func placeholderExportersTests() { #expect(Bool(true)) }

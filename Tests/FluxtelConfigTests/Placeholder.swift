import Testing
@Test func placeholderFluxtelConfigTests() { #expect(Bool(true)) }

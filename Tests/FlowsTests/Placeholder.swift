import Testing

@Test func placeholderFlowsTests() { #expect(1 + 1 == 2) }

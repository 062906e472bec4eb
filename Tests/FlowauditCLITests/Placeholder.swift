import Testing

@Test func placeholderFlowauditCLITests() { #expect(1 + 1 == 2) }

import Testing

@Test func placeholderPolicyTests() { #expect(1 + 1 == 2) }

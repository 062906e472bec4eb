import Testing

@Test func placeholderPacketsTests() { #expect(1 + 1 == 2) }

import Testing

@Test func placeholderAuditTests() { #expect(1 + 1 == 2) }

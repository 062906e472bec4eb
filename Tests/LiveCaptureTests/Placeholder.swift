import Testing

@Test func placeholderLiveCaptureTests() { #expect(1 + 1 == 2) }

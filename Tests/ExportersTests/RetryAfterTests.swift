import OTLPWire
import Testing

@testable import Exporters

@Suite struct RetryAfterTests {
    static let backToTheFuture: Int64 = 1_445_412_480  // 2015-10-21T07:28:00Z

    @Test func deltaSeconds() {
        #expect(RetryAfter.parse("2", nowUnixSeconds: 0) == .seconds(2))
        #expect(RetryAfter.parse(" 120 ", nowUnixSeconds: 0) == .seconds(120))
        #expect(RetryAfter.parse("0", nowUnixSeconds: 0) == .zero)
        #expect(RetryAfter.parse("99999999999999999999999", nowUnixSeconds: 0) == .seconds(Int64.max))
    }

    @Test func imfFixdate() {
        #expect(RetryAfter.parseHTTPDate("Wed, 21 Oct 2015 07:28:00 GMT") == Self.backToTheFuture)
        #expect(RetryAfter.parseHTTPDate("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(RetryAfter.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(RetryAfter.parseHTTPDate("Thu, 29 Feb 2024 23:59:59 GMT") == 1_709_251_199)
        #expect(
            RetryAfter.parse("Wed, 21 Oct 2015 07:28:00 GMT", nowUnixSeconds: Self.backToTheFuture - 30)
                == .seconds(30))
        // In the past: retry now.
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:28:00 GMT", nowUnixSeconds: Self.backToTheFuture + 5) == .zero)
    }

    @Test func obsoleteDateFormats() {
        #expect(RetryAfter.parseHTTPDate("Wednesday, 21-Oct-15 07:28:00 GMT") == Self.backToTheFuture)
        #expect(RetryAfter.parseHTTPDate("Wed Oct 21 07:28:00 2015") == Self.backToTheFuture)
        #expect(RetryAfter.parseHTTPDate("Sun Nov  6 08:49:37 1994") == 784_111_777)
    }

    @Test(arguments: [
        "", "soon", "-5", "1.5", "2 seconds", "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 29 Feb 2023 07:28:00 GMT",
        "Wed, 21 Foo 2015 07:28:00 GMT", "Wed, 21 Oct 2015 24:00:00 GMT", "Wed, 21 Oct 2015 07:28 GMT",
        "Wed, 21 Oct 2015 07:28:00 PST", "Wed, 21 Oct 15 07:28:00", "Xyz, 21 Oct 2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 07:28:00 GMT extra", ",,,,,", "Wed Oct 21 07:28:00 15",
    ])
    func garbageIsIgnored(value: String) {
        #expect(RetryAfter.parse(value, nowUnixSeconds: Self.backToTheFuture) == nil)
    }

    @Test func daysFromCivil() {
        #expect(Timestamp.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(Timestamp.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
    }
}

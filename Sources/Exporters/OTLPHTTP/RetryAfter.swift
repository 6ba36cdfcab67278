import OTLPWire

/// Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): either delay-seconds, or an HTTP-date in
/// IMF-fixdate form (`Wed, 21 Oct 2015 07:28:00 GMT`) or one of the two obsolete forms recipients must
/// accept (RFC 850 `Wednesday, 21-Oct-15 07:28:00 GMT`, asctime `Wed Oct 21 07:28:00 2015`).
public enum RetryAfter {
    /// The delay the header asks for, relative to `nowUnixSeconds` (wall clock) for dates. A date in
    /// the past gives zero. Unparseable values give nil (the header is then ignored).
    public static func parse(_ value: some StringProtocol, nowUnixSeconds: Int64) -> Duration? {
        let trimmed = value.utf8.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        guard !trimmed.isEmpty else { return nil }
        if trimmed.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // delay-seconds; absurdly long values saturate rather than overflow.
            var seconds: Int64 = 0
            for digit in trimmed {
                let (m, o1) = seconds.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(digit - 0x30))
                if o1 || o2 { return .seconds(Int64.max) }
                seconds = a
            }
            return .seconds(seconds)
        }
        guard let date = parseHTTPDate(String(decoding: Array(trimmed), as: UTF8.self)) else { return nil }
        return .seconds(max(0, date - nowUnixSeconds))
    }

    /// Seconds since the Unix epoch for an HTTP-date, or nil.
    public static func parseHTTPDate(_ text: String) -> Int64? {
        // Tokens split on space, comma and dash: IMF ["Wed","21","Oct","2015","07:28:00","GMT"],
        // RFC 850 ["Wednesday","21","Oct","15","07:28:00","GMT"], asctime ["Wed","Oct","21","07:28:00","2015"].
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        guard tokens.count >= 5, weekday(tokens[0]) else { return nil }
        let day: Int
        let month: Int
        let year: Int
        let time: String
        if let m = monthNumber(tokens[1]) {
            guard tokens.count == 5, let d = Int(tokens[2]), let y = Int(tokens[4]), tokens[4].count == 4 else {
                return nil
            }
            (day, month, year, time) = (d, m, y, tokens[3])
        } else {
            guard tokens.count == 6, tokens[5] == "GMT", let d = Int(tokens[1]), let m = monthNumber(tokens[2]),
                let y = Int(tokens[3])
            else { return nil }
            switch tokens[3].count {
            case 4: year = y
            case 2: year = y < 70 ? 2000 + y : 1900 + y
            default: return nil
            }
            (day, month, time) = (d, m, tokens[4])
        }
        let parts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]),
            let minute = Int(parts[1]), let second = Int(parts[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            (1...9999).contains(year)
        else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let longDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    private static func monthNumber(_ token: String) -> Int? {
        months.firstIndex(of: token.lowercased()).map { $0 + 1 }
    }

    private static func weekday(_ token: String) -> Bool {
        let lower = token.lowercased()
        return days.contains(lower) || longDays.contains(lower)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

}

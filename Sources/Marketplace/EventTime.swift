import Foundation

/// The stored form of times in event data: UTC ISO 8601 with milliseconds,
/// `2026-03-01T09:30:00.000Z`, for the years 1970–9999.
///
/// Conversion is integer arithmetic on milliseconds (no calendar, no formatter, no locale), and
/// ``normalized(_:)`` rounds a `Date` to exactly the value decoding yields, so an event decided in
/// memory equals the same event read back from storage.
enum EventTime {
    private static let millisecondsPerDay: Int64 = 86_400_000
    /// Milliseconds from 1970-01-01 to 2001-01-01, `Date`'s reference date.
    private static let referenceOffsetMilliseconds: Int64 = 978_307_200_000
    /// Epoch milliseconds of 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
    private static let storableEpochMilliseconds: ClosedRange<Int64> = 0...253_402_300_799_999

    /// Whether `date` lies in the storable range.
    static func isStorable(_ date: Date) -> Bool {
        epochMilliseconds(date).map(storableEpochMilliseconds.contains) ?? false
    }

    /// `date` rounded to the nearest millisecond.
    static func normalized(_ date: Date) -> Date {
        let milliseconds = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        return Date(timeIntervalSinceReferenceDate: milliseconds / 1000)
    }

    /// The stored string of `date`, or `nil` outside the years 1970–9999.
    static func string(from date: Date) -> String? {
        guard let epoch = epochMilliseconds(date), storableEpochMilliseconds.contains(epoch) else { return nil }
        let days = epoch / millisecondsPerDay
        let ofDay = epoch % millisecondsPerDay
        let (year, month, day) = civil(fromDays: days)
        let hour = ofDay / 3_600_000
        let minute = ofDay / 60_000 % 60
        let second = ofDay / 1000 % 60
        let millisecond = ofDay % 1000
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(millisecond, 3))Z"
    }

    /// The UTC calendar year of `date`, or `nil` outside the storable range.
    static func year(of date: Date) -> Int64? {
        guard let epoch = epochMilliseconds(date), storableEpochMilliseconds.contains(epoch) else { return nil }
        return civil(fromDays: epoch / millisecondsPerDay).year
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ` (the milliseconds may be left out); `nil` otherwise.
    static func date(from text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24 || bytes.count == 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let byte = bytes[index]
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        func byte(_ index: Int, is character: Character) -> Bool { bytes[index] == character.asciiValue }
        guard byte(4, is: "-"), byte(7, is: "-"), byte(10, is: "T"), byte(13, is: ":"), byte(16, is: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var millisecond: Int64 = 0
        if bytes.count == 24 {
            guard byte(19, is: "."), let value = number(20..<23) else { return nil }
            millisecond = value
        }
        guard year >= 1970, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        let days = self.days(fromCivil: year, month, day)
        let epoch = days * millisecondsPerDay + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond
        return Date(timeIntervalSinceReferenceDate: Double(epoch - referenceOffsetMilliseconds) / 1000)
    }

    private static func epochMilliseconds(_ date: Date) -> Int64? {
        let milliseconds = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        guard let value = Int64(exactly: milliseconds) else { return nil }
        let (epoch, overflow) = value.addingReportingOverflow(referenceOffsetMilliseconds)
        return overflow ? nil : epoch
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days, for non-negative years.
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

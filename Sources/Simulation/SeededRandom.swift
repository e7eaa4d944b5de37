import Foundation

/// SplitMix64: a small, fast generator whose whole output follows from its seed, so a market
/// generated from seed S is the same market every time.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    /// A generator for one part of the market (a gig, say), independent of how much the others drew.
    package init(seed: UInt64, stream: UInt64) {
        var mixer = SeededRandom(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        state = mixer.next()
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A UUID drawn from this generator (version-4 layout).
    package mutating func uuid() -> UUID {
        let a = next()
        let b = next()
        var bytes = withUnsafeBytes(of: a.bigEndian) { Array($0) } + withUnsafeBytes(of: b.bigEndian) { Array($0) }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// A uniform double in [0, 1).
    package mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    package mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    package mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// An index drawn with probability proportional to `weights`.
    package mutating func weighted(_ cumulative: [Double]) -> Int {
        let target = unit() * (cumulative.last ?? 1)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] <= target { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// A Poisson-distributed count with the given mean (Knuth's method; fine for small means).
    package mutating func poisson(_ mean: Double) -> Int {
        let limit = exp(-min(mean, 40))
        var k = 0
        var p = 1.0
        repeat {
            k += 1
            p *= unit()
        } while p > limit
        return k - 1
    }
}

import Foundation

/// The test suites' one random number generator: SplitMix64 (Steele, Lea and Flood), seeded.
///
/// `SeededRandom()` starts from the run's seed: `FLUXTEL_TEST_SEED` (decimal or 0x-hex) when set,
/// else drawn once per process and printed to standard error, so that a failing run can be
/// replayed with `FLUXTEL_TEST_SEED=<seed> swift test …`. `SeededRandom(seed:)` pins a seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    /// This run's seed (see the type's documentation).
    public static let runSeed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["FLUXTEL_TEST_SEED"]?.trimmingCharacters(in: .whitespaces),
            let seed = text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        {
            FileHandle.standardError.write(
                Data("fluxtel tests: FLUXTEL_TEST_SEED=\(seed) (from the environment)\n".utf8))
            return seed
        }
        var system = SystemRandomNumberGenerator()
        let seed = system.next()
        FileHandle.standardError.write(
            Data("fluxtel tests: FLUXTEL_TEST_SEED=\(seed) (set it to replay this run)\n".utf8))
        return seed
    }()

    public private(set) var state: UInt64

    /// A generator starting from `seed` (the run's seed by default).
    public init(seed: UInt64 = SeededRandom.runSeed) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Compression
import FluxtelTestSupport
import Foundation
import Testing

@Suite struct GzipTests {
    static func sample(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
        // Compressible but not trivial: words from a small alphabet with a xorshift generator.
        var state = seed
        var out: [UInt8] = []
        out.reserveCapacity(count)
        let words: [[UInt8]] = ["span", "kustomize", "helm", "reconcile", "gotk_", "0123", "\n", " "].map {
            Array($0.utf8)
        }
        while out.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            out.append(contentsOf: words[Int(state % UInt64(words.count))])
        }
        return Array(out.prefix(count))
    }

    @Test(arguments: [0, 1, 100, 65_536, 1_000_003])
    func roundTrip(size: Int) throws {
        let input = Self.sample(size)
        let compressed = Gzip.compress(input)
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
        let output = try Gzip.decompress(compressed, maxOutputBytes: size)
        #expect(output == input)
    }

    @Test func roundTripEveryLevel() throws {
        let input = Self.sample(200_000)
        var sizes: [Int] = []
        for level in 0...9 {
            let compressed = Gzip.compress(input, level: level)
            sizes.append(compressed.count)
            #expect(try Gzip.decompress(compressed, maxOutputBytes: input.count, format: .gzip) == input)
        }
        #expect(sizes[0] > input.count)  // stored
        #expect(sizes[9] < sizes[1])
    }

    @Test func deflateFormatRoundTripAndAutoDetects() throws {
        let input = Self.sample(10_000)
        let zlib = Gzip.compress(input, format: .deflate)
        #expect(zlib[0] == 0x78)
        #expect(try Gzip.decompress(zlib, maxOutputBytes: 10_000, format: .deflate) == input)
        #expect(try Gzip.decompress(zlib, maxOutputBytes: 10_000, format: .auto) == input)
        #expect(throws: DecompressionError.corrupt("")) {
            try Gzip.decompress(zlib, maxOutputBytes: 10_000, format: .gzip)
        }
    }

    @Test func reusedCompressorProducesIndependentMembers() throws {
        let compressor = GzipCompressor(level: 1)
        for size in [10, 100_000, 0, 5_000] {
            let input = Self.sample(size, seed: UInt64(size + 1))
            #expect(try Gzip.decompress(compressor.compress(input), maxOutputBytes: size) == input)
        }
    }

    @Test func poolReusesOneCompressorAcrossSequentialCalls() throws {
        let pool = GzipCompressorPool(level: 6)
        for size in [100_000, 10, 0, 250_000] {
            let input = Self.sample(size, seed: UInt64(size + 7))
            let compressed = pool.compress(input)
            #expect(compressed == Gzip.compress(input, level: 6))
            #expect(try Gzip.decompress(compressed, maxOutputBytes: size) == input)
        }
        #expect(pool.created == 1)
    }

    @Test func poolGivesConcurrentCallersTheirOwnCompressorAndKeepsAtMostMaxIdle() async throws {
        let pool = GzipCompressorPool(level: 1, maxIdle: 2)
        let inputs = (0..<16).map { Self.sample(50_000 + $0 * 1_000, seed: UInt64($0 + 1)) }
        let outputs = await withTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, input) in inputs.enumerated() {
                group.addTask { (index, pool.compress(input)) }
            }
            var outputs: [Int: [UInt8]] = [:]
            for await (index, output) in group { outputs[index] = output }
            return outputs
        }
        for (index, input) in inputs.enumerated() {
            #expect(try Gzip.decompress(outputs[index]!, maxOutputBytes: input.count) == input)
        }
        let before = pool.created
        #expect(before >= 1 && before <= inputs.count)
        // Sequential calls after the burst find a kept compressor: nothing new is set up.
        for input in inputs.prefix(4) { _ = pool.compress(input) }
        #expect(pool.created == before)
    }

    @Test func exactCapIsAllowedOneMoreByteIsNot() throws {
        let input = Self.sample(1000)
        let compressed = Gzip.compress(input)
        #expect(try Gzip.decompress(compressed, maxOutputBytes: 1000).count == 1000)
        let error = #expect(throws: DecompressionError.self) {
            try Gzip.decompress(compressed, maxOutputBytes: 999)
        }
        #expect(error?.code == .tooLarge)
    }

    @Test func concatenatedMembers() throws {
        let a = Self.sample(3000, seed: 1)
        let b = Self.sample(5000, seed: 2)
        let joined = Gzip.compress(a) + Gzip.compress(b, level: 9)
        #expect(try Gzip.decompress(joined, maxOutputBytes: 8000) == a + b)
        #expect(throws: DecompressionError.tooLarge(limit: 0)) {
            try Gzip.decompress(joined, maxOutputBytes: 7999)
        }
    }

    @Test func emptyInputGivesEmptyOutput() throws {
        #expect(try Gzip.decompress([], maxOutputBytes: 10) == [])
        // A member of nothing.
        #expect(try Gzip.decompress(Gzip.compress([]), maxOutputBytes: 0) == [])
    }

    @Test func corruptInputs() throws {
        let good = Gzip.compress(Self.sample(50_000))
        var flipped = good
        flipped[good.count / 2] ^= 0xFF
        var badCRC = good
        badCRC[good.count - 6] ^= 0x01
        let cases: [(String, [UInt8])] = [
            ("not gzip", Array("hello, world, this is not gzip".utf8)),
            ("truncated", Array(good.prefix(good.count / 2))),
            ("header only", Array(good.prefix(10))),
            ("flipped byte", flipped),
            ("bad crc", badCRC),
            ("trailing garbage", good + [0x00, 0x01, 0x02]),
            ("single byte", [0x1F]),
        ]
        for (name, input) in cases {
            let error = #expect(throws: DecompressionError.self, "\(name)") {
                try Gzip.decompress(input, maxOutputBytes: 1 << 20)
            }
            #expect(error?.code == .corrupt, "\(name): \(String(describing: error))")
        }
    }

    @Test func randomGarbageNeverTraps() {
        var generator = SeededRandom()  // FLUXTEL_TEST_SEED replays a failure
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<64, using: &generator)
            var input = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if input.count >= 2, Bool.random(using: &generator) {
                input[0] = 0x1F
                input[1] = 0x8B
            }
            _ = try? Gzip.decompress(input, maxOutputBytes: 4096)
        }
    }

    /// ~100 concatenated members of 10 MiB of zeros each (~1 MiB on the wire, 1 GiB inflated), and a
    /// single 64 MiB member, against a 1 MiB cap: refused as too large. (Memory and time are not
    /// asserted: a figure measured in a test run measures the machine's load as much as the code.)
    @Test func gzipBombIsRefusedByTheCap() throws {
        let member = Gzip.compress([UInt8](repeating: 0, count: 10 << 20), level: 9)
        #expect(member.count < 20_000)
        var bomb: [UInt8] = []
        bomb.reserveCapacity(member.count * 103)
        for _ in 0..<103 { bomb += member }  // > 1 GiB inflated

        let error = #expect(throws: DecompressionError.self) {
            try Gzip.decompress(bomb, maxOutputBytes: 1 << 20)
        }
        #expect(error?.code == .tooLarge)
        // Also without a cap that small: 256 MiB cap, 1 GiB bomb.
        #expect(throws: DecompressionError.tooLarge(limit: 0)) {
            try Gzip.decompress(bomb, maxOutputBytes: 256 << 20)
        }
    }

    // MARK: interop with gzip(1)

    static func run(_ arguments: [String], stdin: [UInt8]) throws -> (status: Int32, stdout: [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Write on another thread so a full stdout pipe cannot deadlock us.
        let data = Data(stdin)
        let writer = Thread {
            input.fileHandleForWriting.write(data)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, [UInt8](out))
    }

    @Test func gzipCLIReadsOurs() throws {
        let input = Self.sample(300_000)
        for level in [1, 6, 9] {
            let result = try Self.run(["gzip", "-dc"], stdin: Gzip.compress(input, level: level))
            #expect(result.status == 0)
            #expect(result.stdout == input)
        }
    }

    @Test func weReadGzipCLIOutput() throws {
        let input = Self.sample(300_000)
        let compressed = try Self.run(["gzip", "-c", "-9"], stdin: input)
        #expect(compressed.status == 0)
        #expect(try Gzip.decompress(compressed.stdout, maxOutputBytes: input.count) == input)
        // Two CLI members concatenated, as `cat a.gz b.gz` would give.
        let doubled = compressed.stdout + compressed.stdout
        #expect(try Gzip.decompress(doubled, maxOutputBytes: 2 * input.count) == input + input)
    }

    @Test func pythonReadsOursAndWeReadPython() throws {
        let input = Self.sample(50_000)
        let decoded = try Self.run(
            ["python3", "-c", "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))"],
            stdin: Gzip.compress(input))
        #expect(decoded.status == 0)
        #expect(decoded.stdout == input)
        let encoded = try Self.run(
            ["python3", "-c", "import gzip,sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read()))"],
            stdin: input)
        #expect(encoded.status == 0)
        #expect(try Gzip.decompress(encoded.stdout, maxOutputBytes: input.count) == input)
    }
}

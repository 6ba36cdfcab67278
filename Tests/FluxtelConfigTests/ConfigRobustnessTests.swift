import FluxtelTestSupport
import Foundation
import Testing

@testable import FluxtelConfig

/// No configuration file crashes the loader: damaged copies of the reference file either load or
/// give errors that all have a position.
@Suite struct ConfigRobustnessTests {
    @Test func damagedReferenceFilesNeverCrash() throws {
        let path = ShippedConfigTests.configDirectory.appendingPathComponent("fluxtel.yaml").path
        let original = Array(try String(contentsOfFile: path, encoding: .utf8).utf8)
        let alphabet = Array("{}[]:,-&*!|>'\"#%@`$\\ \n\t0123456789abcxyzKiBms.~?".utf8)
        var generator = SeededRandom(seed: 0x5EED_F10C_7E1)  // deterministic: a failure reproduces
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
            }
            do {
                _ = try ConfigLoader.load(bytes: bytes, fileName: "fuzz.yaml", environment: [:])
            } catch {
                #expect(!error.errors.isEmpty)
                #expect(error.errors.allSatisfy { $0.line > 0 && $0.column > 0 })
            }
        }
    }
}

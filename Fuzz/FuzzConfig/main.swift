// libFuzzer target: the configuration loader on arbitrary bytes — libyaml, the node-tree builder
// (depth, node-count and alias limits), environment expansion, the section decoders, durations,
// sizes, URLs, listen addresses and relabel regexes. Checks, besides "never crash":
//   - loading is deterministic (the same bytes give the same configuration or the same errors);
//   - every error names the file, has a position inside the text (1-based line and column), and the
//     list is sorted by position without duplicates;
//   - for valid UTF-8, the String entry point agrees with the bytes entry point.
// Build and run: scripts/fuzz config <seconds>.
import FluxtelConfig

let environment = ["CLUSTER_NAME": "fuzz", "EMPTY": "", "DASH0_ENDPOINT": "http://127.0.0.1:4318", "DASH0_AUTH_TOKEN": "t"]
let fileName = "fuzz.yaml"

func load(_ bytes: [UInt8]) -> Result<AgentConfiguration, ConfigErrors> {
    do {
        return .success(try ConfigLoader.load(bytes: bytes, fileName: fileName, environment: environment))
    } catch {
        return .failure(error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let result = load(bytes)
    precondition(load(bytes) == result, "loading the same bytes twice gave different results")
    if case .failure(let failure) = result {
        precondition(!failure.errors.isEmpty, "a failure without errors")
        var previous: (Int, Int) = (0, 0)
        for (index, error) in failure.errors.enumerated() {
            precondition(error.file == fileName, "error names \(error.file)")
            precondition(error.line >= 1 && error.line <= size + 1, "line \(error.line) outside the text: \(error)")
            precondition(error.column >= 1 && error.column <= size + 1, "column \(error.column) outside the text: \(error)")
            precondition(!error.message.isEmpty, "empty message")
            precondition(index == 0 || (error.line, error.column) >= previous, "errors out of order")
            previous = (error.line, error.column)
        }
        precondition(Set(failure.errors).count == failure.errors.count, "duplicate errors")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if Array(text.utf8) == bytes {
        let fromString: Result<AgentConfiguration, ConfigErrors>
        do {
            fromString = .success(try ConfigLoader.load(yaml: text, fileName: fileName, environment: environment))
        } catch {
            fromString = .failure(error)
        }
        precondition(fromString == result, "load(yaml:) and load(bytes:) disagree")
    }
    return 0
}

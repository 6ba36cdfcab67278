// libFuzzer target: the OTLP/JSON decoder on arbitrary bytes, for all three signals. Besides
// "never crash" (depth, size and model budgets bounded), it checks that whatever JSON is accepted
// converts to protobuf the walker accepts — the receiver forwards exactly those bytes — and that
// the JSON error responses are well-formed for any message.
// Build and run: scripts/fuzz json <seconds>.
import OTLPJSON
import OTLPWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let json = Array(UnsafeBufferPointer(start: data, count: size))
    for signal in Signal.allCases {
        do {
            let body = try OTLPJSON.decodeRequest(signal: signal, json: json)
            // The default depth limits agree: what the JSON decoder accepts, the walker accepts.
            do {
                _ = try OTLPWalker.countItems(signal: signal, body: body)
            } catch {
                fatalError("\(signal): JSON accepted, protobuf rejected: \(error)")
            }
        } catch {
            // The error must render (offset, path, reason) and fit in a JSON status message.
            let status = OTLPJSON.encodeStatus(code: 3, message: error.description)
            precondition(status.first == UInt8(ascii: "{") && status.last == UInt8(ascii: "}"))
        }
    }
    return 0
}

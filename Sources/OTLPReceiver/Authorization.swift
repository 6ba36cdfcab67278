import FluxtelConfig

/// `receivers.otlp.auth`: the `Authorization` header values a request may carry, compared in constant time.
struct Authorization: Sendable, Equatable {
    /// The accepted header values (UTF-8); empty when requests need no authorisation.
    let accepted: [[UInt8]]
    /// The scheme named in `WWW-Authenticate` when a request is refused: `Bearer` when a token is set.
    let challenge: String

    init(_ configuration: OTLPReceiverConfiguration) {
        var accepted: [[UInt8]] = []
        if !configuration.bearerToken.isEmpty { accepted.append(Array("Bearer \(configuration.bearerToken)".utf8)) }
        if !configuration.basicUsername.isEmpty && !configuration.basicPassword.isEmpty {
            accepted.append(
                Array("Basic ".utf8)
                    + base64Encode(Array("\(configuration.basicUsername):\(configuration.basicPassword)".utf8)))
        }
        self.accepted = accepted
        self.challenge = configuration.bearerToken.isEmpty ? "Basic" : "Bearer"
    }

    /// Whether requests must be authorised at all.
    var isRequired: Bool { !accepted.isEmpty }

    /// Whether the request's `Authorization` header (absent: empty) is one of the accepted values.
    func admits(_ header: String?) -> Bool {
        let given = Array((header ?? "").utf8)
        var matched = false
        for value in accepted where constantTimeEquals(given, value) { matched = true }
        return matched
    }
}

/// Compares secrets without an early exit, so timing does not leak how much matched.
func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
    let count = max(lhs.count, rhs.count)
    for index in 0..<count {
        let a = index < lhs.count ? lhs[index] : 0
        let b = index < rhs.count ? rhs[index] : 0
        difference |= a ^ b
    }
    return difference == 0
}

/// Standard base64 (RFC 4648) with padding, for comparing `Authorization: Basic` values.
func base64Encode(_ bytes: [UInt8]) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index + 3 <= bytes.count {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
        out += [
            alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)],
        ]
        index += 3
    }
    let rest = bytes.count - index
    if rest == 1 {
        let n = UInt32(bytes[index]) << 16
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
    } else if rest == 2 {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
        out += [
            alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "="),
        ]
    }
    return out
}

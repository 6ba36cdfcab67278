/// The framing around a deflate stream.
///
/// - `gzip`: RFC 1952 (`Content-Encoding: gzip`), zlib windowBits 31.
/// - `deflate`: RFC 1950 zlib wrapper (`Content-Encoding: deflate`), windowBits 15.
/// - `auto`: decompression only, detects gzip or zlib from the header (windowBits 47);
///   compressing with `auto` produces gzip.
public struct CompressionFormat: Sendable, Hashable, CustomStringConvertible {
    enum Backing: String, Sendable, Hashable { case gzip, deflate, auto }
    let backing: Backing

    public static let gzip = Self(backing: .gzip)
    public static let deflate = Self(backing: .deflate)
    public static let auto = Self(backing: .auto)

    public var description: String { backing.rawValue }

    var deflateWindowBits: Int32 {
        switch backing {
        case .gzip, .auto: 31
        case .deflate: 15
        }
    }

    var inflateWindowBits: Int32 {
        switch backing {
        case .gzip: 31
        case .deflate: 15
        case .auto: 47
        }
    }

    /// Whether a finished member may be followed by another (gzip allows concatenated members).
    var allowsMembers: Bool { backing != .deflate }
}

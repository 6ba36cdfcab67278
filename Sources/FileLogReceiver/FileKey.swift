/// Identity of a file: device and inode (the same for every path or symlink that leads to it).
struct FileKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    var device: UInt64
    var inode: UInt64
    static func < (a: FileKey, b: FileKey) -> Bool { (a.device, a.inode) < (b.device, b.inode) }
    var description: String { "\(device):\(inode)" }
}

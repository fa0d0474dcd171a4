// STUB of Apple's CryptoKit for a compile check only (Linux has no CryptoKit): SHA256 as the app uses it.
import Foundation

public struct SHA256Digest: Sequence {
    public func makeIterator() -> Array<UInt8>.Iterator { fatalError("STUB SHA256Digest") }
}

public struct SHA256 {
    public typealias Digest = SHA256Digest
    public init() {}
    public mutating func update<D: DataProtocol>(data: D) { fatalError("STUB SHA256.update") }
    public func finalize() -> SHA256Digest { fatalError("STUB SHA256.finalize") }
}

// STUB of mlx-swift (revision dc43e62) for a compile check only: the public signatures the app uses, no behaviour.
import Foundation

func stub(_ what: String) -> Never { fatalError("STUB \(what): AppCheck only compiles, it never runs") }

/// Source/MLX/MLXArray.swift:7
public final class MLXArray {
    /// Source/MLX/MLXArray+Bytes.swift:123
    public func asArray<T: HasDType>(_ type: T.Type) -> [T] { stub("MLXArray.asArray") }
}

/// Source/MLX/DType.swift:234 (there refining ScalarOrArray)
public protocol HasDType {}
extension Float: HasDType {}

/// Source/MLX/Transforms+Eval.swift:15
public func eval(_ arrays: MLXArray...) { stub("eval") }

/// Source/MLX/Memory.swift:63
public enum Memory {
    /// Memory.swift:203-213: the setter ignores the value and resets the peak.
    public static var peakMemory: Int {
        get { stub("Memory.peakMemory") }
        set { stub("Memory.peakMemory") }
    }

    /// Memory.swift:251
    public static var cacheLimit: Int {
        get { stub("Memory.cacheLimit") }
        set { stub("Memory.cacheLimit") }
    }

    /// Memory.swift:356
    public static func clearCache() { stub("Memory.clearCache") }
}

/// Source/MLX/ErrorHandler.swift:149
public func withError<R>(_ body: () throws -> R) throws -> R { stub("withError") }

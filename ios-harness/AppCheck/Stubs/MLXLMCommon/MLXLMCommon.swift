// STUB of mlx-swift-lm's MLXLMCommon (revision bd4b743) for a compile check only.

/// Libraries/MLXLMCommon/Evaluate.swift:54 (the app only passes it through)
public struct GenerateParameters: Sendable {
    public init() {}
}

// SizeLimits: the one statement of how large anything read from a model, head or .npy file may be, and
// the one checked-arithmetic helper (`CheckedSize`) every size computed from file input goes through.
// Why it matters: NeuralNet, Capture and Gestures build with -Ounchecked in release, where `*` and `+`
// wrap silently on overflow, so a crafted shape like [32, 288230376151711771] would multiply back to a
// small byte count. Sizes are checked at the boundary — TF.js manifests and topology configs
// (TFJSLayersFormat, TFJSTopology), .npy headers (NPY), shape inference (ShapeInference) and the
// embedder's arena plan (Embedder) — and the kernels' unchecked arithmetic relies on that.

/// Limits on sizes read from files; anything larger is refused with an error before any allocation.
public enum SizeLimits {
    /// Elements in one tensor: a weight, an activation or an .npy array (2^31; MobileNet's largest is 1.2 M).
    public static let maximumTensorElements = 1 << 31
    /// Bytes of one file read as a model, head, weight shard or array, and of a model's weights over all
    /// manifest groups (2 GiB; the largest MobileNet is 17 MB).
    public static let maximumFileBytes = 1 << 31
    /// Bytes of a model.json (64 MiB; a MobileNet's topology is about 100 KB).
    public static let maximumModelJSONBytes = 64 << 20
    /// Pixels of a kernel side, a stride or one side's padding in a layer config (65,536). Shape
    /// inference further requires strides and paddings of at most the layer's input height/width.
    public static let maximumSpatialSize = 1 << 16
    /// Filters of a convolution and units of a Dense layer (2^20).
    public static let maximumChannels = 1 << 20
    /// Bytes of an embedder's arena: all intermediate activations and scratch (2 GiB).
    public static let maximumArenaBytes = 1 << 31
    /// Multiply-accumulates of one layer for one image (2^48, days of CPU time; MobileNet v1 1.0 has 5.7·10^8 in all).
    public static let maximumMultiplyAccumulates = 1 << 48
}

/// Overflow-checked size arithmetic (valid in -Ounchecked builds, where plain `*` wraps).
public enum CheckedSize {
    /// ∏ `values`, or nil when a value is negative, the product overflows or exceeds `limit`.
    public static func product(_ values: [Int], limit: Int = .max) -> Int? {
        var result = 1
        for value in values {
            guard value >= 0, case (let next, false) = result.multipliedReportingOverflow(by: value), next <= limit
            else { return nil }
            result = next
        }
        return result
    }

    /// Σ `values`, or nil when a value is negative, the sum overflows or exceeds `limit`.
    public static func sum(_ values: [Int], limit: Int = .max) -> Int? {
        var result = 0
        for value in values {
            guard value >= 0, case (let next, false) = result.addingReportingOverflow(value), next <= limit
            else { return nil }
            result = next
        }
        return result
    }
}

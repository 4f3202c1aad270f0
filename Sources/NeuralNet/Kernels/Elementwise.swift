// The light operators of a MobileNet: zero padding, residual add, global average pooling,
// batch normalisation (reference path only; the fast path folds it into the preceding conv) and
// activations. Each has a plain reference and a fast twin; all work on NHWC with batch 1.
// Legend: H W C = height, width, channels; P = H·W pixels.
import Foundation

/// ZeroPadding2D: input [H, W, C] → output [H+top+bottom, W+left+right, C].
public enum ZeroPad {
    /// Element by element.
    public static func reference(
        input: UnsafePointer<Float>, height: Int, width: Int, channels: Int,
        padding p: Padding2D, output: UnsafeMutablePointer<Float>
    ) {
        let outWidth = width + p.left + p.right
        let outHeight = height + p.top + p.bottom
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                for c in 0..<channels {
                    let inY = y - p.top
                    let inX = x - p.left
                    let inside = inY >= 0 && inY < height && inX >= 0 && inX < width
                    output[(y * outWidth + x) * channels + c] = inside ? input[(inY * width + inX) * channels + c] : 0
                }
            }
        }
    }

    /// Row copies: zero the border, copy each input row (W·C floats) once; `threads` > 1 splits the output rows.
    public static func fast(
        input: UnsafePointer<Float>, height: Int, width: Int, channels: Int,
        padding p: Padding2D, output: UnsafeMutablePointer<Float>, threads: Int = 1
    ) {
        let outRow = (width + p.left + p.right) * channels
        let outHeight = height + p.top + p.bottom
        parallelFor(outHeight, threads: threads) { y in
            let row = output + y * outRow
            let inY = y - p.top
            if inY < 0 || inY >= height {
                row.update(repeating: 0, count: outRow)
                return
            }
            row.update(repeating: 0, count: p.left * channels)
            (row + p.left * channels).update(from: input + inY * width * channels, count: width * channels)
            (row + (p.left + width) * channels).update(repeating: 0, count: p.right * channels)
        }
    }
}

/// Residual Add of two equally shaped tensors with a fused clamp.
public enum AddTensors {
    /// Element by element.
    public static func reference(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int,
        clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count { output[i] = min(max(a[i] + b[i], clamp.low), clamp.high) }
    }

    /// 16 lanes at a time with a scalar tail; `threads` > 1 splits the tensor into contiguous 16-float-aligned
    /// chunks.
    public static func simd(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int,
        clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>, threads: Int = 1
    ) {
        if threads <= 1 {
            simdRange(a, b, 0, count, clamp: clamp, output: output)
            return
        }
        let blocks = (count + 15) / 16
        let parts = min(threads, max(blocks, 1))
        parallelFor(parts, threads: parts) { part in
            let start = min(count, part * blocks / parts * 16)
            let end = min(count, (part + 1) * blocks / parts * 16)
            simdRange(a, b, start, end, clamp: clamp, output: output)
        }
    }

    @inline(__always)
    private static func simdRange(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ start: Int, _ end: Int,
        clamp: (low: Float, high: Float), output: UnsafeMutablePointer<Float>
    ) {
        var i = start
        while i + 16 <= end {
            Lanes.store16(Lanes.clamp(Lanes.load16(a + i) + Lanes.load16(b + i), clamp.low, clamp.high), output + i)
            i += 16
        }
        while i < end {
            output[i] = Lanes.clamp(a[i] + b[i], clamp.low, clamp.high)
            i += 1
        }
    }
}

/// GlobalAveragePooling2D: input [H, W, C] → output [C], the mean over all pixels.
public enum GlobalAveragePool {
    /// Channel by channel.
    public static func reference(
        input: UnsafePointer<Float>, pixels: Int, channels: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        for c in 0..<channels {
            var sum: Float = 0
            for p in 0..<pixels { sum += input[p * channels + c] }
            output[c] = sum / Float(pixels)
        }
    }

    /// Pixel rows accumulated 16 channels at a time.
    public static func simd(
        input: UnsafePointer<Float>, pixels: Int, channels: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        output.update(repeating: 0, count: channels)
        for p in 0..<pixels {
            let row = input + p * channels
            var c = 0
            while c + 16 <= channels {
                Lanes.store16(Lanes.load16(output + c) + Lanes.load16(row + c), output + c)
                c += 16
            }
            while c < channels {
                output[c] += row[c]
                c += 1
            }
        }
        let scale = 1 / Float(pixels)
        for c in 0..<channels { output[c] *= scale }
    }
}

/// BatchNormalization over the last axis: y = gamma·(x − mean)/√(variance + ε) + beta.
public enum BatchNorm {
    /// Direct formula (used by the reference path; the planned path folds BN into convs).
    public static func reference(
        input: UnsafePointer<Float>, pixels: Int, channels: Int,
        gamma: [Float]?, beta: [Float]?, mean: [Float], variance: [Float], epsilon: Float,
        output: UnsafeMutablePointer<Float>
    ) {
        for p in 0..<pixels {
            for c in 0..<channels {
                let normalised = (input[p * channels + c] - mean[c]) / (variance[c] + epsilon).squareRoot()
                output[p * channels + c] = (gamma?[c] ?? 1) * normalised + (beta?[c] ?? 0)
            }
        }
    }

    /// Per-channel scale and shift equivalent to this BN: y = scale·x + shift.
    public static func affine(gamma: [Float]?, beta: [Float]?, mean: [Float], variance: [Float], epsilon: Float)
        -> (scale: [Float], shift: [Float])
    {
        var scale = [Float](repeating: 0, count: mean.count)
        var shift = scale
        for c in 0..<mean.count {
            scale[c] = (gamma?[c] ?? 1) / (variance[c] + epsilon).squareRoot()
            shift[c] = (beta?[c] ?? 0) - mean[c] * scale[c]
        }
        return (scale, shift)
    }
}

/// Activations applied in place over a [rows, channels] buffer (softmax over the last axis).
public enum ActivationKernel {
    /// Plain per-element definitions.
    public static func reference(
        _ activation: Activation, _ data: UnsafeMutablePointer<Float>, rows: Int,
        channels: Int
    ) {
        let count = rows * channels
        switch activation {
        case .linear: return
        case .relu: for i in 0..<count { data[i] = max(data[i], 0) }
        case .relu6: for i in 0..<count { data[i] = min(max(data[i], 0), 6) }
        case .sigmoid: for i in 0..<count { data[i] = 1 / (1 + exp(-data[i])) }
        case .tanh: for i in 0..<count { data[i] = Foundation.tanh(data[i]) }
        case .softmax:
            for row in 0..<rows {
                let line = data + row * channels
                var largest = -Float.infinity
                for c in 0..<channels { largest = max(largest, line[c]) }
                var sum: Float = 0
                for c in 0..<channels {
                    line[c] = exp(line[c] - largest)
                    sum += line[c]
                }
                for c in 0..<channels { line[c] /= sum }
            }
        }
    }

    /// Fast twin: clamps vectorised through the shared epilogue; transcendental ones as reference.
    public static func fast(
        _ activation: Activation, _ data: UnsafeMutablePointer<Float>, rows: Int,
        channels: Int
    ) {
        if let bounds = activation.clampBounds {
            Epilogue.biasClamp(data, rows: 1, columns: rows * channels, bias: nil, low: bounds.low, high: bounds.high)
        } else {
            reference(activation, data, rows: rows, channels: channels)
        }
    }
}

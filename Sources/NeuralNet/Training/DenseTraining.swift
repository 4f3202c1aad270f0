// Training kernels of the dense head: Dense forward/backward, ReLU backward, softmax + categorical
// cross-entropy with its fused gradient. Each op has a plain-loop `reference` and a fast twin side by
// side, as in llm.c's train_gpt2.c. Dense's fast twin runs on a `GEMMBackend`: OpenBLAS `cblas_sgemm`
// with transposes (allocates nothing), or a packed Swift kernel (PackedGEMM's AVX-512 one is the default in AVX-512 builds:
// Debian's OpenBLAS 0.3.21 picks its SSE3 "Prescott" sgemm on this Xeon and trains 2× slower).
// All buffers are row-major Float32. Backward passes overwrite their outputs (no accumulation).
// Softmax cross-entropy has only the plain loop: K (classes) is a handful.
//
// Legend: B = rows in the batch, D = input features, U = output units (of this Dense), K = classes.
import COpenBLAS
import Foundation

/// Forward and backward passes of a fully connected layer Y = X·W + b (Keras `Dense`, kernel [D, U]).
enum DenseKernel {
    /// y [B,U] = x [B,D] · w [D,U] + b [U] (b optional), then max(·, 0) when `relu`; plain loops.
    static func forwardReference(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, units: Int, relu: Bool
    ) {
        for row in 0..<rows {
            for unit in 0..<units {
                var sum: Float = b?[unit] ?? 0
                for p in 0..<inputs { sum += x[row * inputs + p] * w[p * units + unit] }
                y[row * units + unit] = relu ? max(sum, 0) : sum
            }
        }
    }

    /// Fast twin of `forwardReference` on `backend`: `.openBLAS` = one `cblas_sgemm` then the shared
    /// bias+clamp epilogue (allocates nothing); `.packedSwift` = pack w into panels (it changes every
    /// training step, so per call: allocates D·U floats) and the packed Swift kernel with bias+relu fused.
    static func forward(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, units: Int, relu: Bool,
        backend: GEMMBackend = GEMM.defaultBackend
    ) {
        switch backend {
        case .packedSwift, .packedSwiftAVX2:
            // y [B,U] = clamp(x [B,D] · packed w [D,U] + b)
            GEMM.multiply(
                rows: rows, a: x, weights: GEMMWeights(k: inputs, n: units, rowMajor: w, backend: backend), bias: b,
                clamp: (relu ? 0 : -.infinity, .infinity), c: y)
        case .openBLAS:
            // y [B,U] = x [B,D] · w [D,U]
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(units), Int32(inputs),
                1, x, Int32(inputs), w, Int32(units), 0, y, Int32(units))
            Epilogue.biasClamp(y, rows: rows, columns: units, bias: b, low: relu ? 0 : -.infinity, high: .infinity)
        }
    }

    /// Gradients of Y = X·W + b given dY [B,U]: dX [B,D] = dY·Wᵀ, dW [D,U] = Xᵀ·dY, db [U] = Σ_B dY.
    /// Each output is optional (nil = not needed, e.g. dX of the first layer); all are overwritten.
    static func backwardReference(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
        db: UnsafeMutablePointer<Float>?, rows: Int, inputs: Int, units: Int
    ) {
        if let dx {
            for row in 0..<rows {
                for p in 0..<inputs {
                    var sum: Float = 0
                    for unit in 0..<units { sum += dy[row * units + unit] * w[p * units + unit] }
                    dx[row * inputs + p] = sum
                }
            }
        }
        if let dw {
            for p in 0..<inputs {
                for unit in 0..<units {
                    var sum: Float = 0
                    for row in 0..<rows { sum += x[row * inputs + p] * dy[row * units + unit] }
                    dw[p * units + unit] = sum
                }
            }
        }
        if let db {
            for unit in 0..<units {
                var sum: Float = 0
                for row in 0..<rows { sum += dy[row * units + unit] }
                db[unit] = sum
            }
        }
    }

    /// Fast twin of `backwardReference`: dX by a transposed `cblas_sgemm`; dW by `cblas_sgemm` (Xᵀ·dY)
    /// on `.openBLAS`, or on `.packedSwift` by transposing X into a scratch Xᵀ [D,B] and running PackedGEMM
    /// with dY [B,U] packed as its weights (allocates D·B + B·U floats); db by a column sum.
    static func backward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
        db: UnsafeMutablePointer<Float>?, rows: Int, inputs: Int, units: Int,
        backend: GEMMBackend = GEMM.defaultBackend
    ) {
        if let dx {
            // dx [B,D] = dy [B,U] · wᵀ [U,D]
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(inputs), Int32(units),
                1, dy, Int32(units), w, Int32(units), 0, dx, Int32(inputs))
        }
        if let dw {
            switch backend {
            case .packedSwift, .packedSwiftAVX2:
                // xt [D,B] = xᵀ; dw [D,U] = xt [D,B] · packed dy [B,U]
                let xt = UnsafeMutablePointer<Float>.allocate(capacity: inputs * rows)
                defer { xt.deallocate() }
                for p in 0..<inputs {
                    for row in 0..<rows { xt[p * rows + row] = x[row * inputs + p] }
                }
                GEMM.multiply(
                    rows: inputs, a: xt, weights: GEMMWeights(k: rows, n: units, rowMajor: dy, backend: backend),
                    bias: nil, clamp: (-.infinity, .infinity), c: dw)
            case .openBLAS:
                // dw [D,U] = xᵀ [D,B] · dy [B,U]
                cblas_sgemm(
                    CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inputs), Int32(units), Int32(rows),
                    1, x, Int32(inputs), dy, Int32(units), 0, dw, Int32(units))
            }
        }
        if let db {
            db.update(repeating: 0, count: units)
            for row in 0..<rows {
                let line = dy + row * units
                for unit in 0..<units { db[unit] += line[unit] }
            }
        }
    }
}

/// ReLU's backward pass, written against the forward output: dx = dy where y > 0, else 0
/// (TF's `ReluGrad` convention: the gradient at exactly 0 is 0).
enum ReLUKernel {
    /// dx [count] = y [count] > 0 ? dy : 0; `dx` may alias `dy`.
    static func backward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        for i in 0..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }
}

/// Softmax over the last axis fused with categorical cross-entropy against integer labels.
///
/// loss = mean_B(−log p[b, label_b]) computed as log Σ exp(z − max) − (z[label] − max), which never
/// takes the log of a rounded-to-zero probability; its gradient with respect to the logits is
/// (p − onehot(label)) / B. Unlike TF.js/Keras, probabilities are not clipped to [1e-7, 1 − 1e-7]
/// first, so a confidently wrong sample still gets its full gradient (the clip zeroes it).
enum SoftmaxCrossEntropy {
    /// Plain loops. logits [B,K] → probabilities [B,K]; returns (mean loss, rows whose argmax is the label).
    static func forwardReference(
        logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        probabilities: UnsafeMutablePointer<Float>, rows: Int, classes: Int
    )
        -> (loss: Float, correct: Int)
    {
        var total: Double = 0
        var correct = 0
        for row in 0..<rows {
            let z = logits + row * classes
            let p = probabilities + row * classes
            var largest = -Float.infinity
            var best = 0
            for k in 0..<classes where z[k] > largest {
                largest = z[k]
                best = k
            }
            var sum: Float = 0
            for k in 0..<classes {
                p[k] = exp(z[k] - largest)
                sum += p[k]
            }
            for k in 0..<classes { p[k] /= sum }
            let label = Int(labels[row])
            total += Double(log(sum) - (z[label] - largest))
            if best == label { correct += 1 }
        }
        return (Float(total / Double(rows)), correct)
    }

    /// Fused gradient: dlogits [B,K] = (probabilities − onehot(labels)) / B.
    static func backwardReference(
        probabilities: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        dlogits: UnsafeMutablePointer<Float>, rows: Int, classes: Int
    ) {
        let scale = 1 / Float(rows)
        for row in 0..<rows {
            for k in 0..<classes {
                let target: Float = k == Int(labels[row]) ? 1 : 0
                dlogits[row * classes + k] = (probabilities[row * classes + k] - target) * scale
            }
        }
    }
}

/// Finiteness of a whole buffer in one SIMD pass (x·0 is 0 for finite x and NaN for NaN/±Inf), used
/// after every optimiser step: a NaN weight would otherwise hide, since the ReLU clamp maps NaN to 0.
enum FiniteCheck {
    /// True when every one of `values` [count] is finite.
    static func allFinite(_ values: UnsafePointer<Float>, count: Int) -> Bool {
        var lanes = SIMD16<Float>(repeating: 0)
        var index = 0
        while index + 16 <= count {
            lanes += Lanes.load16(values + index) * 0
            index += 16
        }
        var tail: Float = 0
        while index < count {
            tail += values[index] * 0
            index += 1
        }
        return (lanes.sum() + tail) == 0
    }
}

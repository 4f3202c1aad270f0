// PyTorchImporter: torchvision's MobileNetV2 state_dict (torch.save, legacy or zip format) → a gesturepad
// `Model` with Keras layer names, built by `MobileNetV2.classifier` (torchvision semantics: symmetric
// stride-2 padding, BN eps 1e-5). No Python at run time: `PyTorchCheckpoint` reads the file.
// Invariants: every tensor the topology needs is present with exactly the PyTorch shape α implies
// (missing keys are all named; extra keys other than `num_batches_tracked` are refused); kernels are
// transposed OIHW → HWIO, depthwise [C,1,KH,KW] → [KH,KW,C,1], Linear [out,in] → Dense [in,out].
// References: torchvision/models/mobilenetv2.py (module paths), docs/MODELS.md §2.

import NeuralNet

/// Imports PyTorch checkpoints of the architectures gesturepad knows.
public enum PyTorchImporter {
    /// BatchNorm epsilon of torchvision's MobileNetV2 (`nn.BatchNorm2d` default).
    public static let mobileNetV2Epsilon: Float = 1e-5
    /// Dropout rate of torchvision's MobileNetV2 classifier (identity at inference).
    public static let mobileNetV2DropoutRate: Float = 0.2

    /// Reads torchvision's MobileNetV2 `state_dict` at `path` (e.g. mobilenet_v2-b0353104.pth, IMAGENET1K_V1)
    /// and returns the network with Keras names, from `input_1` [224, 224, 3] to `predictions` (softmax over
    /// `classes`). Inputs are torchvision-normalised: x/255, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225].
    /// - Parameters:
    ///   - path: the .pth/.pt file (legacy or zip `torch.save` format).
    ///   - alpha: torchvision's `width_mult` the checkpoint was trained with (1.0 for the ImageNet weights).
    ///   - classes: output classes of `classifier.1`.
    public static func importMobileNetV2(path: String, alpha: Double = 1.0, classes: Int = 1000)
        throws(NeuralNetError) -> Model
    {
        let entries = try PyTorchCheckpoint.readStateDict(path: path)
        return try mobileNetV2(from: entries, path: path, alpha: alpha, classes: classes)
    }

    /// Maps already-read state_dict entries onto MobileNetV2 (see `importMobileNetV2`); `path` is for messages.
    public static func mobileNetV2(
        from entries: [StateDictEntry], path: String, alpha: Double = 1.0,
        classes: Int = 1000
    ) throws(NeuralNetError) -> Model {
        var byName: [String: StateDictEntry] = [:]
        for entry in entries { byName[entry.name] = entry }
        let modules = mobileNetV2ModulePaths()
        var missing: [String] = []
        var used = Set<String>()
        var firstMismatch: NeuralNetError?

        let model = MobileNetV2.classifier(
            alpha: alpha, inputSize: 224, epsilon: mobileNetV2Epsilon, classes: classes,
            dropoutRate: mobileNetV2DropoutRate
        ) { layer, weightName, kerasShape in
            let placeholder = [Float](repeating: 0, count: kerasShape.reduce(1, *))
            guard let module = modules[layer],
                let layout = torchLayout(weightName: weightName, kerasShape: kerasShape)
            else {
                missing.append("\(layer)/\(weightName) (no torchvision counterpart)")
                return placeholder
            }
            let key = module + "." + layout.name
            guard let entry = byName[key] else {
                missing.append(key)
                return placeholder
            }
            used.insert(key)
            guard entry.dataType == .float32, entry.shape == layout.shape else {
                if firstMismatch == nil {
                    firstMismatch =
                        entry.dataType == .float32
                        ? .checkpointShapeMismatch(path: path, key: key, expected: layout.shape, found: entry.shape)
                        : .invalidCheckpoint(
                            path: path,
                            reason: "tensor \(key) is \(entry.dataType.rawValue), expected float32")
                }
                return placeholder
            }
            guard let order = layout.toKeras else { return entry.scalars }
            return permute(entry.scalars, shape: entry.shape, order: order)
        }
        if !missing.isEmpty { throw .checkpointKeysMissing(path: path, keys: missing) }
        if let firstMismatch { throw firstMismatch }
        let extra = entries.map(\.name).filter { !used.contains($0) && !$0.hasSuffix(".num_batches_tracked") }
        if !extra.isEmpty { throw .checkpointKeysUnexpected(path: path, keys: extra) }
        try TFJSLayersFormat.validate(model)
        return model
    }

    // MARK: Mapping

    /// Keras layer name → torchvision module path for MobileNetV2, e.g. `block_1_depthwise` → `features.2.conv.1.0`.
    static func mobileNetV2ModulePaths() -> [String: String] {
        var paths = [
            "Conv1": "features.0.0", "bn_Conv1": "features.0.1",
            "Conv_1": "features.18.0", "Conv_1_bn": "features.18.1",
            "predictions": "classifier.1",
        ]
        for (index, block) in MobileNetV2.blocks.enumerated() {
            let prefix = MobileNetV2.blockPrefix(index)
            let module = "features.\(index + 1).conv."
            if block.expansion == 1 {
                // InvertedResidual with expand_ratio 1: [ConvBNReLU(dw), Conv2d(project), BatchNorm2d].
                paths[prefix + "depthwise"] = module + "0.0"
                paths[prefix + "depthwise_BN"] = module + "0.1"
                paths[prefix + "project"] = module + "1"
                paths[prefix + "project_BN"] = module + "2"
            } else {
                // [ConvBNReLU(expand 1×1), ConvBNReLU(dw 3×3), Conv2d(project), BatchNorm2d].
                paths[prefix + "expand"] = module + "0.0"
                paths[prefix + "expand_BN"] = module + "0.1"
                paths[prefix + "depthwise"] = module + "1.0"
                paths[prefix + "depthwise_BN"] = module + "1.1"
                paths[prefix + "project"] = module + "2"
                paths[prefix + "project_BN"] = module + "3"
            }
        }
        return paths
    }

    /// The PyTorch parameter name and shape behind a Keras weight, and the axis order taking the PyTorch
    /// array to the Keras one (nil when the layouts agree).
    static func torchLayout(weightName: String, kerasShape: [Int]) -> (name: String, shape: [Int], toKeras: [Int]?)? {
        switch (weightName, kerasShape.count) {
        case ("kernel", 4):  // Conv2d [O, I, KH, KW] → HWIO [KH, KW, I, O]
            return ("weight", [kerasShape[3], kerasShape[2], kerasShape[0], kerasShape[1]], [2, 3, 1, 0])
        case ("depthwise_kernel", 4):  // groups = C: [C, 1, KH, KW] → [KH, KW, C, 1]
            return ("weight", [kerasShape[2], 1, kerasShape[0], kerasShape[1]], [2, 3, 0, 1])
        case ("kernel", 2):  // Linear [out, in] → Dense [in, out]
            return ("weight", [kerasShape[1], kerasShape[0]], [1, 0])
        case ("bias", 1): return ("bias", kerasShape, nil)
        case ("gamma", 1): return ("weight", kerasShape, nil)
        case ("beta", 1): return ("bias", kerasShape, nil)
        case ("moving_mean", 1): return ("running_mean", kerasShape, nil)
        case ("moving_variance", 1): return ("running_var", kerasShape, nil)
        default: return nil
        }
    }

    /// Transposes a row-major array: result axis k is source axis `order[k]`.
    static func permute(_ source: [Float], shape: [Int], order: [Int]) -> [Float] {
        let rank = shape.count
        var sourceStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            sourceStrides[axis] = sourceStrides[axis + 1] * shape[axis + 1]
        }
        let resultShape = order.map { shape[$0] }
        let resultStrides = order.map { sourceStrides[$0] }  // source step per result axis
        var result = [Float](repeating: 0, count: source.count)
        guard !source.isEmpty else { return result }
        var index = [Int](repeating: 0, count: rank)
        var sourceOffset = 0
        for resultOffset in 0..<source.count {
            result[resultOffset] = source[sourceOffset]
            // Odometer increment over the result axes, innermost first.
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                sourceOffset += resultStrides[axis]
                if index[axis] < resultShape[axis] { break }
                sourceOffset -= resultStrides[axis] * resultShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }
}

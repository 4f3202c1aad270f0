// DenseHead ⇄ Model ⇄ TF.js Layers files: a saved head reads back equal (weights, predictions), the
// model.json is the 4-layer Keras model TF.js expects, and every structure that is not a head is a
// typed error naming the layer. GESTUREPAD_HEAD_EXPORT=DIR keeps the saved golden head in DIR for
// `tools/golden/make_head_golden.py --check DIR` (tensorflowjs' Keras loader).
import Foundation
import TestSupport
import Testing

@testable import NeuralNet

@Suite("Head model conversion and files")
struct HeadModelTests {
    @Test("save → load gives the same head and predictions; model.json has Flatten and two Dense layers")
    func roundTrip() throws {
        let golden = try HeadGolden.load()
        let head = try golden.initialHead()
        let export = ProcessInfo.processInfo.environment["GESTUREPAD_HEAD_EXPORT"]
        let directory = export ?? temporaryDirectory("head")
        defer { if export == nil { try? FileManager.default.removeItem(atPath: directory) } }
        try head.save(to: directory)
        let loaded = try DenseHead.load(from: directory)
        #expect(loaded.architecture == head.architecture)
        #expect(
            loaded.hiddenKernel == head.hiddenKernel && loaded.hiddenBias == head.hiddenBias
                && loaded.outputKernel == head.outputKernel)
        #expect(try loaded.predict(golden.features) == head.predict(golden.features))
        let json = try String(contentsOfFile: "\(directory)/model.json", encoding: .utf8)
        for needle in ["\"Flatten\"", "\"Dense\"", "\"softmax\"", "\"relu\"", "\"use_bias\":false", "\"layers-model\""]
        {
            #expect(json.contains(needle), "model.json lacks \(needle)")
        }
    }

    enum Mutation: String, CaseIterable, CustomTestStringConvertible {
        case noFlatten, extraLayer, hiddenLinear, hiddenWithoutBias, outputBiasMissing, outputRelu, wrongKernelShape,
            unfixedInput, wrongInbound, oneClass
        var testDescription: String { rawValue }
    }

    @Test(
        "a model that is not Input → Flatten → Dense relu → Dense softmax is refused, naming the layer",
        arguments: Mutation.allCases)
    func refusesOtherStructures(_ mutation: Mutation) throws {
        let head = try HeadGolden.load().initialHead()
        var model = head.model()
        var expectedLayer = ""
        switch mutation {
        case .noFlatten:
            model.layers.remove(at: 1)
            model.layers[1].inbound = [HeadLayerNames.input]
            expectedLayer = HeadLayerNames.output
        case .extraLayer:
            model.layers.append(Layer(name: "extra", kind: .softmax, inbound: [HeadLayerNames.output]))
            model.outputNames = ["extra"]
            expectedLayer = "extra"
        case .hiddenLinear:
            model.layers[2].kind = .dense(units: 5, useBias: true, activation: .linear)
            expectedLayer = HeadLayerNames.hidden
        case .hiddenWithoutBias:
            model.layers[2].kind = .dense(units: 5, useBias: false, activation: .relu)
            expectedLayer = HeadLayerNames.hidden
        case .outputBiasMissing:
            // A bias on the output layer is accepted (heads TF.js built with one), but it must be there.
            model.layers[3].kind = .dense(units: 3, useBias: true, activation: .softmax)
            expectedLayer = HeadLayerNames.output
        case .outputRelu:
            model.layers[3].kind = .dense(units: 3, useBias: false, activation: .relu)
            expectedLayer = HeadLayerNames.output
        case .wrongKernelShape:
            model.layers[3].weights["kernel"] = Tensor(shape: [3, 5], scalars: head.outputKernel)
            model.layers[3].kind = .dense(units: 5, useBias: false, activation: .softmax)
            expectedLayer = HeadLayerNames.output
        case .unfixedInput:
            model.layers[0].kind = .input(shape: [nil, 2, 3])
            expectedLayer = HeadLayerNames.input
        case .wrongInbound:
            model.layers[3].inbound = [HeadLayerNames.flatten]
            expectedLayer = HeadLayerNames.output
        case .oneClass:
            model.layers[3].kind = .dense(units: 1, useBias: false, activation: .softmax)
            model.layers[3].weights["kernel"] = Tensor(shape: [5, 1], scalars: Array(head.outputKernel.prefix(5)))
            expectedLayer = HeadLayerNames.output
        }
        #expect {
            _ = try DenseHead(model: model)
        } throws: { error in
            switch error as? NeuralNetError {
            case .notADenseHead(let layer, _), .weightShapeMismatch(let layer, _, _, _), .missingWeight(let layer, _):
                return layer == expectedLayer
            default: return false
            }
        }
    }
}

// The head against tf_keras: Golden/head_tiny.json (tools/golden/make_head_golden.py) holds a tiny
// head's forward pass, loss, tf.GradientTape gradients and its weights after 3 tf_keras Adam steps
// (ε = 1e-12, where Keras' and TF.js' Adam agree — see the script); Golden/head_tiny_tfjs is the same
// head written by tensorflowjs as a Sequential model. Tolerance 1e-5 relative to 1 + |expected|.
import Foundation
import Testing

@testable import NeuralNet

struct HeadGolden: Decodable {
    var inputShape: [Int], hiddenUnits: Int, classes: Int
    var features: [Float], labels: [Int]
    var kernel1: [Float], bias1: [Float], kernel2: [Float]
    var probabilities: [Float], loss: Float
    var gradKernel1: [Float], gradBias1: [Float], gradKernel2: [Float], gradFeatures: [Float]
    var learningRate: Float, epsilon: Float, adamSteps: Int
    var afterKernel1: [Float], afterBias1: [Float], afterKernel2: [Float]

    static func load() throws -> HeadGolden {
        try JSONDecoder().decode(
            HeadGolden.self, from: Data(contentsOf: URL(fileURLWithPath: "\(goldenDirectory())/head_tiny.json")))
    }

    var architecture: HeadArchitecture {
        HeadArchitecture(inputShape: inputShape, hiddenUnits: hiddenUnits, classes: classes)
    }

    func initialHead() throws -> DenseHead {
        try DenseHead(architecture: architecture, hiddenKernel: kernel1, hiddenBias: bias1, outputKernel: kernel2)
    }

    /// A workspace holding the golden batch.
    func workspace() -> TrainingWorkspace {
        let workspace = TrainingWorkspace(architecture: architecture, rows: labels.count, inputGradient: true)
        workspace.x.update(from: features, count: features.count)
        for (row, label) in labels.enumerated() { workspace.labels[row] = Int32(label) }
        return workspace
    }
}

@Suite("Head vs tf_keras golden")
struct HeadGoldenTests {
    @Test("forward, loss and gradients match tf.GradientTape", arguments: KernelPath.allCases)
    func lossAndGradients(path: KernelPath) throws {
        let golden = try HeadGolden.load()
        let head = try golden.initialHead()
        let workspace = golden.workspace()
        let rows = golden.labels.count
        let (loss, _) = head.forwardBackward(workspace, rows: rows, path: path)
        let (d, u, k) = (golden.architecture.inputCount, golden.hiddenUnits, golden.classes)
        let gradients = Array(
            UnsafeBufferPointer(start: workspace.gradients, count: golden.architecture.parameterCount))
        #expect(abs(loss - golden.loss) <= 1e-5 * (1 + golden.loss), "loss \(loss) vs \(golden.loss)")
        expectClose(
            Array(UnsafeBufferPointer(start: workspace.probabilities, count: rows * k)), golden.probabilities,
            tolerance: 1e-5, "probabilities")
        expectClose(Array(gradients[0..<d * u]), golden.gradKernel1, tolerance: 1e-5, "dW1")
        expectClose(Array(gradients[d * u..<d * u + u]), golden.gradBias1, tolerance: 1e-5, "db1")
        expectClose(Array(gradients[(d * u + u)...]), golden.gradKernel2, tolerance: 1e-5, "dW2")
        expectClose(
            Array(UnsafeBufferPointer(start: workspace.inputGradient!, count: rows * d)), golden.gradFeatures,
            tolerance: 1e-5, "dX")
        expectClose(try head.predict(golden.features), golden.probabilities, tolerance: 1e-5, "predict")
    }

    @Test("weights after 3 Adam steps match tf_keras' Adam")
    func adamSteps() throws {
        let golden = try HeadGolden.load()
        let head = try golden.initialHead()
        let workspace = golden.workspace()
        let adam = Adam(
            parameterCount: golden.architecture.parameterCount, learningRate: golden.learningRate,
            epsilon: golden.epsilon)
        for _ in 0..<golden.adamSteps {
            _ = head.forwardBackward(workspace, rows: golden.labels.count)
            adam.step(parameters: head.parameters, gradients: workspace.gradients)
        }
        expectClose(head.hiddenKernel, golden.afterKernel1, tolerance: 1e-5, "W1 after Adam")
        expectClose(head.hiddenBias, golden.afterBias1, tolerance: 1e-5, "b1 after Adam")
        expectClose(head.outputKernel, golden.afterKernel2, tolerance: 1e-5, "W2 after Adam")
    }

    @Test("the head tensorflowjs wrote (Sequential) loads and predicts as tf_keras")
    func loadsTensorflowjsSequential() throws {
        let golden = try HeadGolden.load()
        let head = try DenseHead.load(from: "\(goldenDirectory())/head_tiny_tfjs")
        #expect(head.architecture == golden.architecture)
        #expect(
            head.hiddenKernel == golden.kernel1 && head.hiddenBias == golden.bias1
                && head.outputKernel == golden.kernel2)
        expectClose(try head.predict(golden.features), golden.probabilities, tolerance: 1e-6, "probabilities")
    }
}

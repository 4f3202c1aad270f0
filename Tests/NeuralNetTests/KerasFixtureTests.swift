// Against the real framework: TF.js Layers models written by tensorflowjs' converter from tf_keras,
// with Keras' own outputs saved beside them (tools/golden/make_tfjs_fixtures.py). Our reader must
// load them unchanged (Keras 2 "Functional" config, list-style inbound_nodes, Sequential without an
// InputLayer, five shards), and both the reference and the planned path must reproduce Keras.
// Tolerance 2e-5 relative to 1 + |expected|: Keras' float32 with another summation order.
import Foundation
import Testing

@testable import NeuralNet

/// Directory of a committed fixture.
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

@Suite("Keras + tensorflowjs fixtures")
struct KerasFixtureTests {
    @Test(
        "functional model: reader, reference path and embedder reproduce Keras",
        arguments: ["keras_small", "keras_small_sharded"])
    func functional(name: String) throws {
        let model = try TFJSLayersFormat.read(fixture(name))
        let input = try NPY.read(fixture("keras_small/input.npy"))
        let expected = try NPY.read(fixture("keras_small/expected.npy"))
        let reference = try model.referenceForward(input)[model.outputNames[0]]!
        expectClose(reference.scalars, expected.scalars, tolerance: 2e-5, "\(name) reference path vs Keras")
        for backend in GEMMBackend.allCases {
            let embedded = try Embedder(model: model, outputLayer: model.outputNames[0], gemmBackend: backend).embed(
                input)
            expectClose(embedded.scalars, expected.scalars, tolerance: 2e-5, "\(name) embedder (\(backend)) vs Keras")
        }
        let inner = try NPY.read(fixture("keras_small/expected_conv_pw_1_relu.npy"))
        let cut = try Embedder(model: model, outputLayer: "conv_pw_1_relu").embed(input)
        expectClose(cut.scalars, inner.scalars, tolerance: 2e-5, "\(name) conv_pw_1_relu vs Keras")
    }

    @Test("the sharded copy is the same model as the single-shard one")
    func shardedEqualsSingle() throws {
        #expect(
            try TFJSLayersFormat.read(fixture("keras_small_sharded")) == TFJSLayersFormat.read(fixture("keras_small")))
    }

    @Test("Sequential model (implicit input layer) reproduces Keras")
    func sequential() throws {
        let model = try TFJSLayersFormat.read(fixture("keras_sequential"))
        #expect(model.layers.first.map { if case .input = $0.kind { true } else { false } } == true)
        let input = try NPY.read(fixture("keras_sequential/input.npy"))
        let expected = try NPY.read(fixture("keras_sequential/expected.npy"))
        let actual = try Embedder(model: model).embed(input)
        expectClose(actual.scalars, expected.scalars, tolerance: 2e-5, "sequential vs Keras")
    }

    @Test("what we write from a converter-made model, TF.js-style, reads back identical")
    func rewriteConverterModel() throws {
        let model = try TFJSLayersFormat.read(fixture("keras_small"))
        let directory = temporaryPath("rewritten")
        try TFJSLayersFormat.write(model, to: directory, shardBytes: 1000)
        #expect(try TFJSLayersFormat.read(directory) == model)
    }
}

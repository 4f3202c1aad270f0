// Helpers shared by the GameWindow tests: temporary sample stores filled with solid-colour
// samples, pixel counting in a canvas region, and finding a text drawn in the built-in font
// (temporary directories and the real photos and models come from TestSupport).
import Capture
import Foundation
import Gestures
import NeuralNet
import Raster
import TestSupport
import Testing
import SystemSupport

@testable import GameWindow

/// A sample store in a temporary directory with `counts[label]` solid-colour 16×16 samples per label,
/// the colour of each label given by `colors` (default grey).
func filledStore(counts: [String: Int], colors: [String: RGB] = [:]) throws -> (store: SampleStore, directory: String) {
    let directory = temporaryDirectory("store")
    let store = try SampleStore(path: (directory as NSString).appendingPathComponent("samples.sqlite"))
    for (label, count) in counts.sorted(by: { $0.key < $1.key }) {
        let color = colors[label] ?? RGB(128, 128, 128)
        let frame = [UInt8]((0..<(16 * 16)).flatMap { _ in [color.red, color.green, color.blue] })
        let samples = (0..<count).map { _ in
            NewSample(label: label, frame: frame, side: 16, source: "test", mirror: true, normalization: "x/127.5-1")
        }
        if !samples.isEmpty { try store.add(contentsOf: samples) }
    }
    return (store, directory)
}

/// Pixels of exactly `color` inside `rect`.
func count(_ color: RGB, in rect: Rect, of canvas: Canvas) -> Int {
    let clipped = rect.intersection(canvas.bounds)
    guard !clipped.isEmpty else { return 0 }
    var found = 0
    for y in clipped.y..<clipped.maxY {
        for x in clipped.x..<clipped.maxX where canvas.pixel(x: x, y: y) == color { found += 1 }
    }
    return found
}

/// Whether every ink pixel of `text` drawn at `origin` and `scale` has `color` in `canvas`.
func textIsDrawn(_ text: String, at origin: Point, scale: Int, color: RGB, in canvas: Canvas) -> Bool {
    var inked = 0
    var matching = 0
    PixelFont.forEachInkRect(text: text, at: origin, scale: scale) { rect in
        inked += 1
        if canvas.pixel(x: rect.x, y: rect.y) == color { matching += 1 }
    }
    return inked > 0 && inked == matching
}

/// Where in `region` `text` appears drawn in `color` at `scale` (top-left cell corners): every pixel
/// of the text's box must be `color` exactly where the font has ink and something else elsewhere.
func findText(_ text: String, scale: Int = 1, color: RGB, in region: Rect, of canvas: Canvas) -> [Point] {
    let size = PixelFont.measure(text: text, scale: scale)
    guard size.width > 0 else { return [] }
    var mask = Canvas(width: size.width, height: size.height, background: .black)
    PixelFont.draw(text: text, at: Point(x: 0, y: 0), color: .white, scale: scale, into: &mask)
    var ink: [Point] = []
    var blank: [Point] = []
    for y in 0..<size.height {
        for x in 0..<size.width {
            if mask.pixel(x: x, y: y) == .white {
                ink.append(Point(x: x, y: y))
            } else {
                blank.append(Point(x: x, y: y))
            }
        }
    }
    guard let first = ink.first else { return [] }
    var found: [Point] = []
    let clipped = region.intersection(canvas.bounds)
    guard !clipped.isEmpty else { return [] }
    for y in clipped.y..<clipped.maxY {
        for x in clipped.x..<clipped.maxX where canvas.pixel(x: x + first.x, y: y + first.y) == color {
            if ink.allSatisfy({ canvas.pixel(x: x + $0.x, y: y + $0.y) == color })
                && blank.allSatisfy({ canvas.pixel(x: x + $0.x, y: y + $0.y) != color })
            {
                found.append(Point(x: x, y: y))
            }
        }
    }
    return found
}

/// Writes a 64×64 Y4M clip of `frames` video-range black frames (Y = 16): a webcam with a hand over the lens.
func writeCoveredLensClip(to path: String, frames: Int = 30) throws {
    var bytes = Data("YUV4MPEG2 W64 H64 F15:1 Ip A1:1 C420jpeg\n".utf8)
    for _ in 0..<frames {
        bytes.append(Data("FRAME\n".utf8))
        bytes.append(Data(repeating: 16, count: 64 * 64))
        bytes.append(Data(repeating: 128, count: 2 * 32 * 32))
    }
    try bytes.write(to: URL(fileURLWithPath: path))
}

/// A session on the real model reading a covered-lens clip, stepped by hand on a virtual clock (100 ms a frame)
/// until the GestureSession pauses itself (cause lens-cover), at most 60 frames.
func lensCoveredSession(directory: String) throws -> GameSession {
    let clip = directory + "/covered.y4m"
    try writeCoveredLensClip(to: clip)
    let workspace = try GestureWorkspace(
        WorkspaceConfiguration(modelName: TestFiles.modelName, dataDirectory: directory))
    let recognizer = try workspace.makeRecognizer()
    let clock = VirtualFrameClock()
    let pipeline = try GesturePipeline(
        recognizer: recognizer, storage: .init(store: workspace.samples, cacheKey: workspace.trainer.cacheKey),
        labels: .standard, sourceName: clip, trainer: workspace.trainer, clock: clock,
        opener: { () throws(CaptureError) -> any FrameSource in
            try FrameSources.open(clip, pacing: .asFastAsPossible, loops: true)
        })
    let session = GameSession(
        app: App(), parts: GameSessionParts(store: workspace.samples, pipeline: pipeline, recognizer: recognizer))
    for _ in 0..<60 {
        if case .paused = session.model().camera { break }
        session.processPipelineFrame()
        clock.advance(byNanoseconds: 100_000_000)
    }
    return session
}

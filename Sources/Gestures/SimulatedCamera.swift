// SimulatedCamera: webcam-like frames of still photos for tests, benchmarks and demo recordings
// where no camera exists. Each frame views the photo through a slightly moved and zoomed window
// (the subject never sits in exactly the same place), with exposure changes and sensor noise:
// the "simulated camera jitter" the gestures issue asks for. Deterministic for a seed.
import Capture
import NeuralNet

/// How much a simulated frame may differ from the photo.
public struct CameraJitter: Sendable, Equatable {
    /// Maximum shift of the view window, as a fraction of the photo's shorter side (default 0.06).
    public var shift: Float
    /// Zoom range: the window covers 1/zoom of the photo (default 0.92…1.08).
    public var zoom: ClosedRange<Float>
    /// Exposure factor range applied to every channel (default 0.75…1.25).
    public var brightness: ClosedRange<Float>
    /// Standard deviation of per-pixel Gaussian noise, in 0…255 units (default 4).
    public var noise: Float

    public init(
        shift: Float = 0.06, zoom: ClosedRange<Float> = 0.92...1.08, brightness: ClosedRange<Float> = 0.75...1.25,
        noise: Float = 4
    ) {
        self.shift = shift
        self.zoom = zoom
        self.brightness = brightness
        self.noise = noise
    }

    /// No jitter at all: every frame is the photo resized.
    public static let none = CameraJitter(shift: 0, zoom: 1...1, brightness: 1...1, noise: 0)
}

/// Renders jittered frames of a photo at a camera resolution.
public struct SimulatedCamera: Sendable {
    public let width: Int
    public let height: Int
    public let jitter: CameraJitter
    private var random: SplitMix64

    public init(width: Int = 320, height: Int = 240, jitter: CameraJitter = CameraJitter(), seed: UInt64) {
        precondition(width > 0 && height > 0, "frame size must be positive")
        self.width = width
        self.height = height
        self.jitter = jitter
        random = SplitMix64(seed: seed)
    }

    /// One jittered frame of `photo` (bilinear sampling of a moved window, exposure, noise).
    public mutating func frame(of photo: RGBImage) -> RGBImage {
        let zoom = uniform(jitter.zoom)
        let gain = uniform(jitter.brightness)
        // The window keeps the frame's aspect ratio inside the photo, scaled by 1/zoom, centred + shift.
        let aspect = Float(width) / Float(height)
        var windowHeight = Float(photo.height)
        var windowWidth = windowHeight * aspect
        if windowWidth > Float(photo.width) {
            windowWidth = Float(photo.width)
            windowHeight = windowWidth / aspect
        }
        windowWidth /= zoom
        windowHeight /= zoom
        let shortSide = Float(min(photo.width, photo.height))
        let centreX = Float(photo.width) / 2 + uniform(-jitter.shift...jitter.shift) * shortSide
        let centreY = Float(photo.height) / 2 + uniform(-jitter.shift...jitter.shift) * shortSide
        let scaleX = windowWidth / Float(width)
        let scaleY = windowHeight / Float(height)
        let originX = centreX - windowWidth / 2
        let originY = centreY - windowHeight / 2
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        photo.pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                let sourceY = min(max(originY + (Float(y) + 0.5) * scaleY - 0.5, 0), Float(photo.height - 1))
                let y0 = Int(sourceY)
                let y1 = min(y0 + 1, photo.height - 1)
                let fy = sourceY - Float(y0)
                for x in 0..<width {
                    let sourceX = min(max(originX + (Float(x) + 0.5) * scaleX - 0.5, 0), Float(photo.width - 1))
                    let x0 = Int(sourceX)
                    let x1 = min(x0 + 1, photo.width - 1)
                    let fx = sourceX - Float(x0)
                    for channel in 0..<3 {
                        let top =
                            Float(source[(y0 * photo.width + x0) * 3 + channel]) * (1 - fx)
                            + Float(source[(y0 * photo.width + x1) * 3 + channel]) * fx
                        let bottom =
                            Float(source[(y1 * photo.width + x0) * 3 + channel]) * (1 - fx)
                            + Float(source[(y1 * photo.width + x1) * 3 + channel]) * fx
                        var value = (top * (1 - fy) + bottom * fy) * gain
                        if jitter.noise > 0 { value += gaussian() * jitter.noise }
                        pixels[(y * width + x) * 3 + channel] = UInt8(min(max(value.rounded(), 0), 255))
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private mutating func uniform(_ range: ClosedRange<Float>) -> Float {
        range.lowerBound == range.upperBound ? range.lowerBound : random.nextFloat(in: range)
    }

    /// A standard normal deviate (Box–Muller).
    private mutating func gaussian() -> Float {
        let u1 = max(random.nextFloat(in: 0...1), 1e-7)
        let u2 = random.nextFloat(in: 0...1)
        return (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

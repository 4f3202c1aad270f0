// swift-tools-version: 6.1
// gesturepad: a webcam gesture controller for Linux. Targets follow ../shared/docs/ARCHITECTURE.md:
// one Swift importer per C library (COpenBLAS → NeuralNet), pure cores, a thin executable.
import Foundation
import PackageDescription

// Release builds vectorise for a chosen CPU level. `make` sets GESTUREPAD_TARGET_CPU from
// /proc/cpuinfo (skylake-avx512 where AVX-512 exists, else haswell = AVX2+FMA); unset means the
// portable x86-64 baseline (SSE2 only, 4-wide SIMD). See README "Build settings".
let targetCPU = ProcessInfo.processInfo.environment["GESTUREPAD_TARGET_CPU"].flatMap { $0.isEmpty ? nil : $0 }
var fastMathFlags: [String] = ["-Ounchecked"]
if let targetCPU { fastMathFlags += ["-target-cpu", targetCPU] }
// BuildInfo.targetCPU reports the level in benchmarks: one define per known level.
let cpuDefines: [SwiftSetting] = switch targetCPU {
case "skylake-avx512": [.define("GESTUREPAD_CPU_SKYLAKE_AVX512", .when(configuration: .release))]
case "haswell": [.define("GESTUREPAD_CPU_HASWELL", .when(configuration: .release))]
default: []
}
// Debug builds (tests) optimise the numeric targets too (-O keeps all checks): the real-model tests
// run full MobileNets, which take minutes unoptimised.
var debugFlags: [String] = ["-O"]
if let targetCPU { debugFlags += ["-target-cpu", targetCPU] }
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(fastMathFlags, .when(configuration: .release)),
    .unsafeFlags(debugFlags, .when(configuration: .debug)),
] + cpuDefines

let package = Package(
    name: "gesturepad",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gesturepad", targets: ["gesturepad"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
        .library(name: "Capture", targets: ["Capture"]),
        .library(name: "Gestures", targets: ["Gestures"]),
        .library(name: "Game", targets: ["Game"]),
        .library(name: "Settings", targets: ["Settings"]),
        .library(name: "Daemon", targets: ["Daemon"]),
        .library(name: "Raster", targets: ["Raster"]),
        .library(name: "Paths", targets: ["Paths"]),
        .library(name: "Importers", targets: ["Importers"]),
        .library(name: "SystemSupport", targets: ["SystemSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // TF GraphDef (.pb) decoding for the MobileNet v1 importer (generated message code is committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // PyTorch zip-format checkpoints (.pth / .pt) for the MobileNet v2 importer.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // SHA-256 of imported model files (recorded in the model metadata).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The sample store (SQLite: transactions, migrations); links Debian's libsqlite3-dev.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The daemon's service group: signals, graceful shutdown; logging.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The daemon's control socket (Unix domain socket server, line framing, async channels).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The OS layer's Errno and FileDescriptor (SystemSupport); swift-nio already depends on it.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CStbImage",
            pkgConfig: "stb",
            providers: [.apt(["libstb-dev"])]
        ),
        // SDL2 for the game window (window, keys, texture upload); only GameWindow imports it.
        .systemLibrary(
            name: "CSDL2",
            pkgConfig: "sdl2",
            providers: [.apt(["libsdl2-dev"])]
        ),
        .systemLibrary(
            name: "CV4L2",
            pkgConfig: "libv4l2",
            providers: [.apt(["libv4l-dev"])]
        ),
        // Kernel uinput headers only (<linux/uinput.h>, <linux/input.h>): Debian's linux-libc-dev,
        // installed with the C toolchain; nothing to link, so no pkg-config.
        .systemLibrary(name: "CUInput"),
        // The OS layer every target uses for system calls: swift-system's Errno and FileDescriptor, errno captured
        // at once, EINTR retried in one place, the one atomic file write, the one monotonic clock.
        .target(name: "SystemSupport", dependencies: [.product(name: "SystemPackage", package: "swift-system")]),
        // Where gesturepad's files live (XDG data, config, cache, runtime), resolved from the environment once.
        .target(name: "Paths"),
        .target(
            name: "NeuralNet",
            dependencies: [
                "COpenBLAS",
                "CPrefetch",
                "CVectorMask",
                "Paths",
                "SystemSupport",
            ],
            swiftSettings: kernelSettings
        ),
        // Model files from other tools, in and out: TF GraphDef and PyTorch importers, the import command's
        // logic, head import/export as TF.js models, SHA-256 of imported files. Its libraries (protobuf, zip,
        // crypto) are linked only by the gesturepad commands that use it, never by the daemon or the window.
        .target(
            name: "Importers",
            dependencies: [
                "NeuralNet",
                "Gestures",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: kernelSettings
        ),
        .target(
            name: "Capture",
            dependencies: ["CStbImage", "CV4L2", "Raster", "SystemSupport"],
            swiftSettings: kernelSettings
        ),
        // The brain between embedder and keys: samples, head training, recognizer, decision filter, evaluation.
        .target(
            name: "Gestures",
            dependencies: [
                "NeuralNet", "Capture", "Paths", "SystemSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: kernelSettings
        ),
        // The one config every command reads: the schema table, the TOML reader, decoding with file:line
        // diagnostics, rendering, command-line overrides.
        .target(name: "Settings", dependencies: ["Gestures", "Capture", "NeuralNet", "Paths", "SystemSupport"]),
        // The background input service: config, key output (uinput), control socket, systemd notification.
        .target(
            name: "Daemon",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                "Settings", "Gestures", "Capture", "NeuralNet", "Paths", "SystemSupport", "CUInput", "CHeapStats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Pure Pac-Man rules: no SDL, no I/O; a fixed 60 Hz tick.
        .target(name: "Game"),
        // Pure-Swift drawing into RGB8 buffers: canvas, built-in pixel font, report charts. No I/O.
        .target(name: "Raster"),
        // The game window: training screen and Pac-Man drawn into Raster canvases, a thin SDL2 shell.
        .target(
            name: "GameWindow",
            dependencies: ["Game", "Gestures", "Raster", "Capture", "NeuralNet", "Paths", "Settings", "SystemSupport", "CSDL2"],
            // Frames are drawn pixel by pixel: optimise debug builds too, so the window keeps 60 Hz there.
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .executableTarget(
            name: "gesturepad",
            dependencies: [
                "NeuralNet",
                "Capture",
                "Gestures",
                "Settings",
                "Paths",
                "Importers",
                "Daemon",
                "GameWindow",
                "Raster",
                "SystemSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // glibc heap counters (mallinfo2) for "allocates nothing per call" tests, and the daemon's heap policy (mallopt).
        .target(name: "CHeapStats"),
        // Software prefetch for the sparse kernels (Swift has none): one static inline function, header-only.
        .target(name: "CPrefetch"),
        // Vector helpers as static inline C (header-only): eight lanes' non-zero flags as a byte (VMOVMSKPS) for
        // ZeroSkipGEMM's lists, and the loads, stores and 16-lane clamp the largest kernels need inlined.
        .target(name: "CVectorMask"),
        // Tests only: per-thread counts of malloc-family calls (the test binary's malloc forwards to glibc's), for
        // "allocates nothing per frame" checks that must also see buffers allocated and freed within a frame.
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        // Helpers every test suite shares: temporary directories, the photo/model locations, the built
        // binary, small clips. A plain target under Tests/ that the test targets depend on.
        .target(name: "TestSupport", dependencies: ["Gestures", "Capture", "NeuralNet"], path: "Tests/TestSupport"),
        .testTarget(
            name: "NeuralNetTests",
            dependencies: [
                "NeuralNet", "Importers", "CHeapStats", "TestSupport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            exclude: ["Fixtures", "Golden", "Regression"],
            swiftSettings: kernelSettings
        ),
        .testTarget(
            name: "CaptureTests",
            dependencies: ["Capture", "NeuralNet", "SystemSupport", "CHeapStats", "TestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: kernelSettings
        ),
        .testTarget(
            name: "GesturesTests",
            dependencies: [
                "Gestures", "Importers", "NeuralNet", "Capture", "SystemSupport", "TestSupport", "CHeapStats",
                "CAllocationCounter",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["FilterScripts"],
            swiftSettings: kernelSettings
        ),
        .testTarget(name: "GameTests", dependencies: ["Game"]),
        // Runs the built gesturepad binary as a user would.
        .testTarget(name: "CLITests", dependencies: ["Capture", "NeuralNet", "Gestures", "Paths", "TestSupport"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "Settings", "Gestures", "SystemSupport", "CHeapStats", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["Regression"]),
        // Also runs the built gesturepad binary (config show/check, --print-settings).
        .testTarget(name: "SettingsTests", dependencies: ["Settings", "Daemon", "Gestures", "Capture", "NeuralNet", "Paths", "TestSupport"]),
        .testTarget(name: "RasterTests", dependencies: ["Raster"]),
        .testTarget(name: "PathsTests", dependencies: ["Paths"]),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport", "TestSupport"]),
        .testTarget(name: "GameWindowTests", dependencies: ["GameWindow", "Game", "Gestures", "Raster", "Capture", "NeuralNet", "Settings", "SystemSupport", "TestSupport"],
                    exclude: ["Screenshots"]),
    ]
)

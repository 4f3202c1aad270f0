// BuildInfo: how this NeuralNet was compiled, printed by benchmarks so figures carry their settings.

/// Compile-time facts of this build.
public enum BuildInfo {
    /// Optimisation and target CPU level of the kernels (see Package.swift and README "Build settings").
    public static var targetCPU: String {
        #if DEBUG
            return "debug build (unoptimised)"
        #elseif GESTUREPAD_CPU_SKYLAKE_AVX512
            return "skylake-avx512 (-Ounchecked, AVX-512)"
        #elseif GESTUREPAD_CPU_HASWELL
            return "haswell (-Ounchecked, AVX2+FMA)"
        #else
            return "x86-64 baseline (-Ounchecked, SSE2)"
        #endif
    }
}

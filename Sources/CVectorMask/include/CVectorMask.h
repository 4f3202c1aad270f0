// CVectorMask: vector helpers written in C. First, one operation Swift's SIMD types cannot express — eight
// lanes' "non-zero" flags as the bits of a byte (x86 VMOVMSKPS). Swift has no SIMD-mask-to-integer conversion;
// summing shifted 0/1 lanes costs a shuffle-and-add tree, which made ZeroSkipGEMM's list pass 17–25 % slower
// (Zen 3, standalone). Written with clang's portable vector extensions (no x86 intrinsics), so any target compiles
// it; LLVM lowers the <8 x i1> → i8 bitcast to VMOVMSKPS on AVX. Header-only: static inline, so the call
// compiles into the Swift loop.
// Also an eight-float load and store and a 16-lane clamp, for the largest kernels, where Swift's SIL inliner left
// small helpers as calls (found in the builds' machine code by tools/kernel_audit.py: the AVX-512 stem's 16-pixel
// block called the stdlib's generic loadUnaligned once per tap, its 16 accumulators spilled around each call; the
// AVX-512 GEMM tiles called their 16-lane clamp-and-store per vector; the AVX2 stem's six-pixel block called
// storeBytes for each of its 12 stores). The SIL inliner honours @inline(__always) only for callees of at most
// 64 blocks once the caller is that large — a 16-lane clamp of per-lane selects is more — and leaves generic
// stdlib calls to its size heuristics; a C function is one call in SIL, and LLVM inlines it.
#pragma once

typedef unsigned gp_vector8u __attribute__((ext_vector_type(8)));
typedef _Bool gp_vector8b __attribute__((ext_vector_type(8)));

/// Bit i set when float i of `a` or of `b` is non-zero (±0 count as zero); reads 8 floats from each, unaligned.
static inline unsigned gp_nonzero_mask8(const void *a, const void *b) {
    gp_vector8u x, y;
    __builtin_memcpy(&x, a, sizeof x);
    __builtin_memcpy(&y, b, sizeof y);
    gp_vector8b nonzero = __builtin_convertvector(((x | y) & 0x7FFFFFFFu) != 0, gp_vector8b);
    return (unsigned)__builtin_bit_cast(unsigned char, nonzero);
}

typedef float gp_float8 __attribute__((ext_vector_type(8)));
typedef float gp_float16 __attribute__((ext_vector_type(16)));

/// Eight floats from `p`, unaligned (VMOVUPS).
static inline gp_float8 gp_load8(const float *p) {
    gp_float8 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

/// Stores eight floats at `p`, unaligned (VMOVUPS).
static inline void gp_store8(float *p, gp_float8 v) { __builtin_memcpy(p, &v, sizeof v); }

/// Each lane clamped to [low, high] as `Lanes.clamp` does it: the max select, then the min select (VMAXPS + VMINPS);
/// a NaN lane passes through both.
static inline gp_float16 gp_clamp16(gp_float16 v, float low, float high) {
    gp_float16 lows = low, highs = high;
    gp_float16 floored = v < lows ? lows : v;
    return floored > highs ? highs : floored;
}

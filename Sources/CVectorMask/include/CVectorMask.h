// CVectorMask: one vector operation Swift's SIMD types cannot express — eight lanes' "non-zero" flags as the bits
// of a byte (x86 VMOVMSKPS). Swift has no SIMD-mask-to-integer conversion; summing shifted 0/1 lanes costs a
// shuffle-and-add tree, which made ZeroSkipGEMM's list pass 17–25 % slower (Zen 3, standalone). Written with
// clang's portable vector extensions (no x86 intrinsics), so any target compiles it; LLVM lowers the <8 x i1> →
// i8 bitcast to VMOVMSKPS on AVX. Header-only: static inline, so the call compiles into the Swift loop.
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

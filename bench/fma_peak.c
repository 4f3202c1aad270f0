// fma_peak.c: one core's float32 FMA peak with 512-bit and with 256-bit vectors (12 independent chains each),
// the ceiling every embedder figure is measured against (GFLOP/s = 2 x lanes x FMAs per second).
//   gcc -O2 -mavx512f -mfma bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
// (an AVX2-only CPU: drop the AVX-512 half, or build with -DNO_AVX512).
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){
  long n=200000000; double t;
#ifndef NO_AVX512
  __m512 a[12]; __m512 b=_mm512_set1_ps(1.0000001f), c=_mm512_set1_ps(1e-7f);
  for(int i=0;i<12;i++) a[i]=_mm512_set1_ps(i);
  t=now();
  for(long k=0;k<n;k++){
    #pragma GCC unroll 12
    for(int i=0;i<12;i++) a[i]=_mm512_fmadd_ps(a[i],b,c);
  }
  t=now()-t; __m512 s=a[0]; for(int i=1;i<12;i++) s=_mm512_add_ps(s,a[i]);
  printf("avx512: %.1f GFLOP/s (%f)\n", n*12.0*32/t/1e9, _mm512_reduce_add_ps(s));
#endif
  __m256 d[12]; __m256 e=_mm256_set1_ps(1.0000001f), f=_mm256_set1_ps(1e-7f);
  for(int i=0;i<12;i++) d[i]=_mm256_set1_ps(i);
  t=now();
  for(long k=0;k<n;k++){
    #pragma GCC unroll 12
    for(int i=0;i<12;i++) d[i]=_mm256_fmadd_ps(d[i],e,f);
  }
  t=now()-t; float o[8]; __m256 z=d[0]; for(int i=1;i<12;i++) z=_mm256_add_ps(z,d[i]); _mm256_storeu_ps(o,z);
  printf("avx2: %.1f GFLOP/s (%f)\n", n*12.0*16/t/1e9, o[0]);
}

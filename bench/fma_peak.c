// fma_peak.c: one core's float32 FMA peak with 512-bit and with 256-bit vectors (12 independent chains each),
// the ceiling every embedder figure is measured against (GFLOP/s = 2 x lanes x FMAs per second).
//   gcc -O2 -mavx512f -mfma bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
// (an AVX2-only CPU: drop the AVX-512 half, or build with -DNO_AVX512).
// Then the host's idle penalty: 256-bit FMA bursts of 0.5 M FMAs (~80 us at peak), each after 33 ms asleep (as the
// live loop between frames at 30 fps), after 33 ms of scalar busy-waiting, and after 33 ms of FMA work. Some hosts
// run vector code far below peak for the first milliseconds after the vector units were idle, whatever the core
// did meanwhile (session 12, AMD EPYC Zen 3 VM: 102 GFLOP/s back to back, ~70 after sleeping or busy-waiting,
// 102 after FMA work) -- a cost every engine pays per frame in the live loop, outside any engine's control.
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
// 10 independent 256-bit FMA chains in registers, n iterations (the compiler cannot keep an array in registers here).
static void fma_burst(long n){
  __asm__ volatile(
   "vxorps %%ymm0,%%ymm0,%%ymm0\n vxorps %%ymm1,%%ymm1,%%ymm1\n"
   "vxorps %%ymm2,%%ymm2,%%ymm2\n vxorps %%ymm3,%%ymm3,%%ymm3\n"
   "vxorps %%ymm4,%%ymm4,%%ymm4\n vxorps %%ymm5,%%ymm5,%%ymm5\n"
   "vxorps %%ymm6,%%ymm6,%%ymm6\n vxorps %%ymm7,%%ymm7,%%ymm7\n"
   "vxorps %%ymm8,%%ymm8,%%ymm8\n vxorps %%ymm9,%%ymm9,%%ymm9\n"
   "vxorps %%ymm14,%%ymm14,%%ymm14\n vxorps %%ymm15,%%ymm15,%%ymm15\n"
   "1:\n"
   "vfmadd231ps %%ymm14,%%ymm15,%%ymm0\n vfmadd231ps %%ymm14,%%ymm15,%%ymm1\n vfmadd231ps %%ymm14,%%ymm15,%%ymm2\n"
   "vfmadd231ps %%ymm14,%%ymm15,%%ymm3\n vfmadd231ps %%ymm14,%%ymm15,%%ymm4\n vfmadd231ps %%ymm14,%%ymm15,%%ymm5\n"
   "vfmadd231ps %%ymm14,%%ymm15,%%ymm6\n vfmadd231ps %%ymm14,%%ymm15,%%ymm7\n vfmadd231ps %%ymm14,%%ymm15,%%ymm8\n"
   "vfmadd231ps %%ymm14,%%ymm15,%%ymm9\n"
   "dec %0\n jnz 1b\n" : "+r"(n) :: "xmm0","xmm1","xmm2","xmm3","xmm4","xmm5","xmm6","xmm7","xmm8","xmm9",
   "xmm14","xmm15","cc");
}
// GFLOP/s of 0.5 M-FMA bursts, median of 30, each after 33 ms of `gap`: 0 none, 1 asleep, 2 busy-wait, 3 FMA work.
static double after_gap(int gap){
  double g[30];
  for(int r=0;r<30;r++){
    if(gap==1){struct timespec s={0,33000000};nanosleep(&s,0);}
    if(gap>=2){double t0=now(); while(now()-t0<0.033){ if(gap==3) fma_burst(100); }}
    double t=now(); fma_burst(50000); g[r]=500000.0*16/(now()-t)/1e9;
  }
  for(int i=1;i<30;i++) for(int j=i;j>0&&g[j-1]>g[j];j--){double x=g[j];g[j]=g[j-1];g[j-1]=x;}
  return g[15];
}
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
  printf("avx2 bursts: back to back %.1f GFLOP/s; after 33 ms asleep %.1f, busy-waiting %.1f, doing FMAs %.1f\n",
         after_gap(0), after_gap(1), after_gap(2), after_gap(3));
}

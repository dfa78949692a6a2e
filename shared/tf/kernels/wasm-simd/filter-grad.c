// The weight gradient of a 2-D convolution (Conv2DBackpropFilter), NHWC, in WebAssembly SIMD:
//   dw[th][tw][c][o] += sum over b, y, x of xp[b][y*sh + th][x*sw + tw][c] * dy[b][y][x][o]
// xp is the input already padded/cropped to exactly the rows and columns the filter reaches; dw is HWIO and is
// accumulated into (the caller zeroes it). Built by scripts/wasm-kernels.sh into filter-grad.wasm.ts.
//
// Why not XNNPACK (tfjs-backend-wasm's conv2d, the one-conv rewrite in ../conv2d-backprop-filter.ts): as a
// convolution this is a GEMM with a tiny output and a reduction over every position (K up to 65536), so XNNPACK
// streams a multi-MB packed panel from memory for every row tile and reaches ~8 GFLOP/s a thread. Here a 4x8 tile
// of dw stays in registers while positions stream by in blocks of `block` positions (a block of x and dy stays
// in cache while all taps and tiles pass over it): ~20-25 GFLOP/s a thread on 128-bit SIMD without FMA.
//
// Needs ci % 4 == 0 and (o_end - o_begin) % 8 == 0; threads split [0, co) into o ranges (disjoint writes).
// No static data and no stack: the module runs on tfjs-backend-wasm's own (shared) memory.
#include <wasm_simd128.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))

__attribute__((export_name("filter_grad")))
void filter_grad(const float* xp, const float* dy, float* dw, int n, int oh, int ow, int ci, int co, int kh, int kw,
                 int hp, int wp, int sh, int sw, int o_begin, int o_end, int block) {
  // A block is `rows` output rows counted across the whole batch (r = b·oh + y), so small images share a block.
  int rows = block / ow;
  if (rows < 1) rows = 1;
  const int total = n * oh;
  for (int r0 = 0; r0 < total; r0 += rows) {
    const int r1 = MIN(total, r0 + rows);
    for (int th = 0; th < kh; th++) {
      for (int tw = 0; tw < kw; tw++) {
        for (int c0 = 0; c0 < ci; c0 += 4) {
          for (int o0 = o_begin; o0 < o_end; o0 += 8) {
            float* d = dw + ((th * kw + tw) * ci + c0) * co + o0;
            v128_t a00 = wasm_v128_load(d), a01 = wasm_v128_load(d + 4);
            v128_t a10 = wasm_v128_load(d + co), a11 = wasm_v128_load(d + co + 4);
            v128_t a20 = wasm_v128_load(d + 2 * co), a21 = wasm_v128_load(d + 2 * co + 4);
            v128_t a30 = wasm_v128_load(d + 3 * co), a31 = wasm_v128_load(d + 3 * co + 4);
            for (int r = r0; r < r1; r++) {
              const int b = r / oh, y = r - b * oh;
              const float* xr = xp + ((b * hp + y * sh + th) * wp + tw) * ci + c0;
              const float* dr = dy + r * ow * co + o0;
              for (int x = 0; x < ow; x++) {
                const v128_t g0 = wasm_v128_load(dr), g1 = wasm_v128_load(dr + 4);
                const v128_t s0 = wasm_v128_load32_splat(xr), s1 = wasm_v128_load32_splat(xr + 1);
                const v128_t s2 = wasm_v128_load32_splat(xr + 2), s3 = wasm_v128_load32_splat(xr + 3);
                a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(s0, g0));
                a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(s0, g1));
                a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(s1, g0));
                a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(s1, g1));
                a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(s2, g0));
                a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(s2, g1));
                a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(s3, g0));
                a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(s3, g1));
                dr += co;
                xr += sw * ci;
              }
            }
            wasm_v128_store(d, a00);
            wasm_v128_store(d + 4, a01);
            wasm_v128_store(d + co, a10);
            wasm_v128_store(d + co + 4, a11);
            wasm_v128_store(d + 2 * co, a20);
            wasm_v128_store(d + 2 * co + 4, a21);
            wasm_v128_store(d + 3 * co, a30);
            wasm_v128_store(d + 3 * co + 4, a31);
          }
        }
      }
    }
  }
}

enable f16;

// Tiled f16 GEMM, C[m,n] = A[m,k] · B[k,n], row-major, A and B in f16, C in f32. The same
// tiling as gemm.wgsl (64x64 block, 4x4 outputs per invocation, K in steps of 16); the
// multiply-adds run in f16 within each step of 16 and are accumulated in f32 across steps,
// so rounding stays bounded at large K. FLOPs counted by the host: 2·m·n·k.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    unused0: u32,
    unused1: f32,
    unused2: f32,
    unused3: f32,
    unused4: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f16>;
@group(0) @binding(2) var<storage, read> B: array<f16>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

var<workgroup> As: array<f16, 1024>; // 64 rows x 16
var<workgroup> Bs: array<f16, 1024>; // 16 rows x 64

@compute @workgroup_size(16, 16)
fn gemm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.y * 64u;
    let col0 = wid.x * 64u;
    let t = lid.y * 16u + lid.x;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
    for (var k0 = 0u; k0 < p.k; k0 += 16u) {
        for (var l = 0u; l < 4u; l++) {
            let e = t + l * 256u;
            let ar = row0 + e / 16u;
            let ac = k0 + e % 16u;
            var av = f16(0.0);
            if (ar < p.m && ac < p.k) { av = A[ar * p.k + ac]; }
            As[e] = av;
            let br = k0 + e / 64u;
            let bc = col0 + e % 64u;
            var bv = f16(0.0);
            if (br < p.k && bc < p.n) { bv = B[br * p.n + bc]; }
            Bs[e] = bv;
        }
        workgroupBarrier();
        var part: array<f16, 16>;
        for (var i = 0u; i < 16u; i++) { part[i] = f16(0.0); }
        for (var kk = 0u; kk < 16u; kk++) {
            var a: array<f16, 4>;
            var b: array<f16, 4>;
            for (var i = 0u; i < 4u; i++) { a[i] = As[(lid.y * 4u + i) * 16u + kk]; }
            for (var j = 0u; j < 4u; j++) { b[j] = Bs[kk * 64u + lid.x * 4u + j]; }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    part[i * 4u + j] = fma(a[i], b[j], part[i * 4u + j]);
                }
            }
        }
        for (var i = 0u; i < 16u; i++) { acc[i] += f32(part[i]); }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            let r = row0 + lid.y * 4u + i;
            let c = col0 + lid.x * 4u + j;
            if (r < p.m && c < p.n) { C[r * p.n + c] = acc[i * 4u + j]; }
        }
    }
}

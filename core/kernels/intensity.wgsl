// Arithmetic-intensity sweep (mixbench-style): each invocation reads one vec4<f32>, runs
// `iters` dependent fma() steps with a multiplier and addend the compiler cannot know, and
// writes one vec4. FLOPs = 8 per step per element; bytes = 32 per element (read + write), so the
// intensity is iters / 4 FLOP/byte. Eight steps are written out per loop iteration (then one at
// a time for the rest), so loop control does not bound the compute-heavy end of the sweep.

struct Params {
    n: u32,
    stride: u32,
    iters: u32,
    unused0: u32,
    m: f32,
    c: f32,
    unused1: f32,
    unused2: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> unused: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

@compute @workgroup_size(256)
fn intensity(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x + id.y * p.stride;
    if (i >= p.n) { return; }
    let mv = vec4<f32>(p.m);
    let cv = vec4<f32>(p.c);
    var x = a[i];
    var j = 0u;
    for (; j + 8u <= p.iters; j += 8u) {
        x = fma(x, mv, cv);
        x = fma(x, mv, cv);
        x = fma(x, mv, cv);
        x = fma(x, mv, cv);
        x = fma(x, mv, cv);
        x = fma(x, mv, cv);
        x = fma(x, mv, cv);
        x = fma(x, mv, cv);
    }
    for (; j < p.iters; j++) { x = fma(x, mv, cv); }
    c[i] = x;
}

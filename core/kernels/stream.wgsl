// Streaming kernels: one vec4<f32> per invocation on a 2D grid of 256-wide workgroups
// (index = id.x + id.y * stride, so arrays can exceed 65,535 workgroups in one dimension).
// Bytes moved are counted read + write by the host: copy and scale 32 B per element, add and
// triad 48 B, reduce 16 B.

struct Params {
    n: u32,        // elements (vec4) in each array
    stride: u32,   // invocations per grid row
    unused0: u32,
    unused1: u32,
    s: f32,        // scalar of scale and triad
    unused2: f32,
    unused3: f32,
    unused4: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x + id.y * p.stride;
    if (i < p.n) { c[i] = a[i]; }
}

@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x + id.y * p.stride;
    if (i < p.n) { c[i] = p.s * a[i]; }
}

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x + id.y * p.stride;
    if (i < p.n) { c[i] = a[i] + b[i]; }
}

@compute @workgroup_size(256)
fn triad(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x + id.y * p.stride;
    if (i < p.n) { c[i] = a[i] + p.s * b[i]; }
}

var<workgroup> partial: array<vec4<f32>, 256>;

// Read-only reduction: each invocation sums a grid-stride slice, each workgroup writes one
// partial sum to c[workgroup index].
@compute @workgroup_size(256)
fn reduce(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let total = nwg.x * nwg.y * 256u;
    var acc = vec4<f32>(0.0);
    var i = id.x + id.y * p.stride;
    loop {
        if (i >= p.n) { break; }
        acc += a[i];
        i += total;
    }
    partial[li] = acc;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half = half >> 1u) {
        if (li < half) { partial[li] += partial[li + half]; }
        workgroupBarrier();
    }
    if (li == 0u) { c[wid.x + wid.y * nwg.x] = partial[0]; }
}

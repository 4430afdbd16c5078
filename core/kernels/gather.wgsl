// Embedding-bag gather with sum pooling: out[bag] = sum of `pooling` random rows of the table.
// One invocation per (bag, vec4 column). Bytes counted by the host: rows read + indices read +
// pooled vectors written.

struct Params {
    bags: u32,
    pooling: u32,
    dim4: u32,     // vec4 per row
    stride: u32,   // invocations per grid row
    unused0: f32,
    unused1: f32,
    unused2: f32,
    unused3: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
    let t = id.x + id.y * p.stride;
    let bag = t / p.dim4;
    let col = t % p.dim4;
    if (bag >= p.bags) { return; }
    var acc = vec4<f32>(0.0);
    for (var j = 0u; j < p.pooling; j++) {
        let row = idx[bag * p.pooling + j];
        acc += table[row * p.dim4 + col];
    }
    out[bag * p.dim4 + col] = acc;
}

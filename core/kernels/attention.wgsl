// Fused attention with on-chip (online) softmax, head dimension 64.
// Q, O: [batch, heads, q_len, 64]; K, V: [batch, kv_heads, kv_len, 64] (grouped-query when
// kv_heads < heads). One workgroup of 32 invocations per (query, batch·head): each invocation
// runs the online softmax over every 32nd key, then the workgroup merges the 32 partial results.
// With causal masking, query i (of the last q_len positions) sees keys 0 ..= kv_len - q_len + i.

struct Params {
    heads: u32,
    kv_heads: u32,
    q_len: u32,
    kv_len: u32,
    causal: u32,
    unused0: u32,
    scale: f32,
    unused1: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> KV: array<vec4<f32>>; // K then V, each [b, kvh, kv_len, 16 vec4]
@group(0) @binding(3) var<storage, read_write> O: array<vec4<f32>>;

var<workgroup> wm: array<f32, 32>;
var<workgroup> wl: array<f32, 32>;
var<workgroup> wacc: array<vec4<f32>, 512>; // 32 x 16

@compute @workgroup_size(32)
fn attention(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let qi = wid.x;
    let bh = wid.y;
    let b = bh / p.heads;
    let h = bh % p.heads;
    let kvh = h / (p.heads / p.kv_heads);
    let qbase = (bh * p.q_len + qi) * 16u;
    var q: array<vec4<f32>, 16>;
    for (var d = 0u; d < 16u; d++) { q[d] = Q[qbase + d]; }
    var last = p.kv_len - 1u;
    if (p.causal != 0u) { last = p.kv_len - p.q_len + qi; }
    let kbase = (b * p.kv_heads + kvh) * p.kv_len * 16u;
    let vbase = arrayLength(&KV) / 2u + kbase;
    var m = -3.0e38;
    var l = 0.0;
    var acc: array<vec4<f32>, 16>;
    for (var d = 0u; d < 16u; d++) { acc[d] = vec4<f32>(0.0); }
    for (var j = t; j <= last; j += 32u) {
        var s = 0.0;
        for (var d = 0u; d < 16u; d++) { s += dot(q[d], KV[kbase + j * 16u + d]); }
        s *= p.scale;
        let m_new = max(m, s);
        let corr = exp(m - m_new);
        let w = exp(s - m_new);
        l = l * corr + w;
        for (var d = 0u; d < 16u; d++) { acc[d] = acc[d] * corr + w * KV[vbase + j * 16u + d]; }
        m = m_new;
    }
    wm[t] = m;
    wl[t] = l;
    for (var d = 0u; d < 16u; d++) { wacc[t * 16u + d] = acc[d]; }
    workgroupBarrier();
    if (t < 16u) {
        var mm = -3.0e38;
        for (var r = 0u; r < 32u; r++) { mm = max(mm, wm[r]); }
        var num = vec4<f32>(0.0);
        var den = 0.0;
        for (var r = 0u; r < 32u; r++) {
            let f = exp(wm[r] - mm);
            num += wacc[r * 16u + t] * f;
            den += wl[r] * f;
        }
        O[qbase + t] = num / den;
    }
}

//! The kernels' parameters (binding 0, a uniform `Params` struct in every kernel), as
//! `#[repr(C)]` structs whose bytes are the uniform buffer's contents.
//!
//! Each struct mirrors its kernel's WGSL `Params` member for member: same names, same order,
//! 4-byte scalars, 32 bytes in all (a multiple of the 16 bytes uniform buffers align to). The
//! `unused*` members pad every kernel to the same size. A test parses each kernel with naga and
//! checks that its `Params` has exactly these members at these offsets.

use bytemuck::{Pod, Zeroable};

/// The scalar type of a uniform member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// `u32`.
    U32,
    /// `f32`.
    F32,
}

/// A Rust type that is a 4-byte WGSL scalar.
pub trait Scalar {
    /// Which one.
    const KIND: ScalarKind;
}

impl Scalar for u32 {
    const KIND: ScalarKind = ScalarKind::U32;
}

impl Scalar for f32 {
    const KIND: ScalarKind = ScalarKind::F32;
}

/// One member of a uniform struct: its WGSL name, byte offset and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Name, as in the WGSL struct.
    pub name: &'static str,
    /// Byte offset.
    pub offset: usize,
    /// Scalar type.
    pub kind: ScalarKind,
}

/// A kernel's parameters: plain old data uploaded as the uniform at binding 0.
pub trait Uniform: Pod {
    /// Its members in order, as the WGSL `Params` declares them.
    const MEMBERS: &'static [Member];

    /// The uniform buffer's contents.
    fn bytes(&self) -> &[u8] {
        bytemuck::bytes_of(self)
    }
}

macro_rules! uniform {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $vis:vis $field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
        pub struct $name {
            $($(#[$fdoc])* $vis $field: $ty,)*
        }

        impl Uniform for $name {
            const MEMBERS: &'static [Member] = &[
                $(Member { name: stringify!($field), offset: std::mem::offset_of!($name, $field), kind: <$ty as Scalar>::KIND },)*
            ];
        }
    };
}

uniform! {
    /// `stream.wgsl`: copy, scale, add, triad and reduce.
    StreamParams {
        /// vec4 elements in each array.
        pub n: u32,
        /// Invocations per grid row.
        pub stride: u32,
        unused0: u32,
        unused1: u32,
        /// The scalar of scale and triad.
        pub s: f32,
        unused2: f32,
        unused3: f32,
        unused4: f32,
    }
}

impl StreamParams {
    /// `n` vec4 elements on a grid of rows of `stride` invocations, scalar `s`.
    pub fn new(n: u32, stride: u32, s: f32) -> Self {
        StreamParams { n, stride, s, ..Zeroable::zeroed() }
    }
}

uniform! {
    /// The generated FMA-peak kernel ([`super::kernels::fma_peak`]).
    FmaParams {
        /// Invocations (vec4 elements).
        pub n: u32,
        /// Invocations per grid row.
        pub stride: u32,
        /// Steps per chain.
        pub iters: u32,
        unused0: u32,
        /// Multiplier of every step.
        pub m: f32,
        /// Addend of every step.
        pub c: f32,
        /// Chain k starts at x0 + k·step.
        pub step: f32,
        unused1: f32,
    }
}

impl FmaParams {
    /// `n` invocations, `iters` steps `x = x·m + c` per chain, chains `step` apart.
    pub fn new(n: u32, stride: u32, iters: u32, m: f32, c: f32, step: f32) -> Self {
        FmaParams { n, stride, iters, m, c, step, ..Zeroable::zeroed() }
    }
}

uniform! {
    /// `intensity.wgsl`.
    IntensityParams {
        /// vec4 elements.
        pub n: u32,
        /// Invocations per grid row.
        pub stride: u32,
        /// Steps per element.
        pub iters: u32,
        unused0: u32,
        /// Multiplier of every step.
        pub m: f32,
        /// Addend of every step.
        pub c: f32,
        unused1: f32,
        unused2: f32,
    }
}

impl IntensityParams {
    /// `n` elements, `iters` steps `x = x·m + c` each.
    pub fn new(n: u32, stride: u32, iters: u32, m: f32, c: f32) -> Self {
        IntensityParams { n, stride, iters, m, c, ..Zeroable::zeroed() }
    }
}

uniform! {
    /// Every GEMM: the portable one, the register tilings and the skinny ones.
    GemmParams {
        /// Rows of A and C.
        pub m: u32,
        /// Columns of B and C.
        pub n: u32,
        /// Columns of A, rows of B.
        pub k: u32,
        unused0: u32,
        unused1: f32,
        unused2: f32,
        unused3: f32,
        unused4: f32,
    }
}

impl GemmParams {
    /// C (`m`×`n`) = A (`m`×`k`) · B (`k`×`n`).
    pub fn new(m: u32, n: u32, k: u32) -> Self {
        GemmParams { m, n, k, ..Zeroable::zeroed() }
    }
}

uniform! {
    /// `gather.wgsl`.
    GatherParams {
        /// Bags (output rows).
        pub bags: u32,
        /// Table rows summed per bag.
        pub pooling: u32,
        /// vec4 per row.
        pub dim4: u32,
        /// Invocations per grid row.
        pub stride: u32,
        unused0: f32,
        unused1: f32,
        unused2: f32,
        unused3: f32,
    }
}

impl GatherParams {
    /// `bags` sums of `pooling` rows of `dim4` vec4 each.
    pub fn new(bags: u32, pooling: u32, dim4: u32, stride: u32) -> Self {
        GatherParams { bags, pooling, dim4, stride, ..Zeroable::zeroed() }
    }
}

uniform! {
    /// `attention.wgsl`.
    AttentionParams {
        /// Query heads.
        pub heads: u32,
        /// Key/value heads.
        pub kv_heads: u32,
        /// Queries per sequence.
        pub q_len: u32,
        /// Keys per sequence.
        pub kv_len: u32,
        /// 1 for causal masking, 0 without.
        pub causal: u32,
        unused0: u32,
        /// Scale of the scores (1/√head_dim).
        pub scale: f32,
        unused1: f32,
    }
}

impl AttentionParams {
    /// The parameters of an attention problem, scores scaled by `scale`.
    pub fn new(heads: u32, kv_heads: u32, q_len: u32, kv_len: u32, causal: bool, scale: f32) -> Self {
        AttentionParams { heads, kv_heads, q_len, kv_len, causal: u32::from(causal), scale, ..Zeroable::zeroed() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes the positional `[u32; 8]` words gave, word by word (little-endian).
    fn words(p: &impl Uniform) -> Vec<u32> {
        p.bytes().chunks(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect()
    }

    #[test]
    fn bytes_are_the_words_the_kernels_read() {
        let (m, c, step) = (0.5f32, 0.25f32, 0.0625f32);
        assert_eq!(words(&StreamParams::new(10, 256, 1.5)), [10, 256, 0, 0, 1.5f32.to_bits(), 0, 0, 0]);
        assert_eq!(
            words(&FmaParams::new(10, 256, 64, m, c, step)),
            [10, 256, 64, 0, m.to_bits(), c.to_bits(), step.to_bits(), 0]
        );
        assert_eq!(words(&IntensityParams::new(10, 256, 4, m, c)), [10, 256, 4, 0, m.to_bits(), c.to_bits(), 0, 0]);
        assert_eq!(words(&GemmParams::new(4, 256, 128)), [4, 256, 128, 0, 0, 0, 0, 0]);
        assert_eq!(words(&GatherParams::new(8, 4, 16, 512)), [8, 4, 16, 512, 0, 0, 0, 0]);
        assert_eq!(
            words(&AttentionParams::new(32, 8, 1, 4096, true, 0.125)),
            [32, 8, 1, 4096, 1, 0, 0.125f32.to_bits(), 0]
        );
    }

    #[test]
    fn members_are_listed_in_order_at_their_offsets() {
        let m = FmaParams::MEMBERS;
        assert_eq!(m.len(), 8);
        assert_eq!(m[2], Member { name: "iters", offset: 8, kind: ScalarKind::U32 });
        assert_eq!(m[6], Member { name: "step", offset: 24, kind: ScalarKind::F32 });
        assert_eq!(std::mem::size_of::<AttentionParams>(), 32);
    }
}

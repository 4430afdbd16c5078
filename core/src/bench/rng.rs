//! A small deterministic generator (SplitMix64) for benchmark inputs: reproducible from a seed,
//! never all zeros, no dependency.

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float uniformly in `[lo, hi)`.
    pub fn f32_in(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    /// An integer uniformly in `[0, n)` (n > 0).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// `len` floats in `[lo, hi)`.
    pub fn fill(&mut self, len: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..len).map(|_| self.f32_in(lo, hi)).collect()
    }

    /// Fills `out` with floats in `[lo, hi)`: the values [`SplitMix64::fill`] would return.
    pub fn fill_slice(&mut self, out: &mut [f32], lo: f32, hi: f32) {
        for v in out {
            *v = self.f32_in(lo, hi);
        }
    }

    /// Advances the generator past `draws` values in constant time, so parts of one long
    /// sequence can be generated independently (and in parallel).
    pub fn skip(&mut self, draws: u64) {
        self.0 = self.0.wrapping_add(GAMMA.wrapping_mul(draws));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_in_range_and_vary() {
        let mut r = SplitMix64::new(7);
        let v = r.fill(1000, 1.0, 2.0);
        assert!(v.iter().all(|x| (1.0..2.0).contains(x)));
        assert!(v.windows(2).any(|w| w[0] != w[1]));
        assert!((0..1000).all(|_| r.below(10) < 10));
    }

    #[test]
    fn skipping_ahead_gives_the_same_sequence() {
        let whole = SplitMix64::new(3).fill(100, -1.0, 1.0);
        let mut parts = vec![0.0; 100];
        let (head, tail) = parts.split_at_mut(37);
        let mut r = SplitMix64::new(3);
        let mut ahead = r.clone();
        ahead.skip(37);
        ahead.fill_slice(tail, -1.0, 1.0);
        r.fill_slice(head, -1.0, 1.0);
        assert_eq!(parts, whole);
        // After skipping a whole fill, the generator continues where the fill would have left it.
        let mut a = SplitMix64::new(3);
        a.fill(100, 0.0, 1.0);
        let mut b = SplitMix64::new(3);
        b.skip(100);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}

//! Helpers shared by the suite's randomised tests.

/// A small deterministic generator (xorshift64); tests print the seed with every failure.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number below `n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A seed from the clock (never 0).
pub(crate) fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| {
            d.as_secs().rotate_left(32) ^ u64::from(d.subsec_nanos())
        })
        | 1
}

//! Pseudo-random figures for the generated test data: the same on every run.

/// A xorshift64 generator.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A UUID-shaped id; `i` (the entity's index) goes into one group.
    pub fn uuid(&mut self, i: u64) -> String {
        let n = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            n as u32,
            (n >> 32) as u16,
            (n >> 48) & 0xfff,
            i * 7 % 0xfff,
            self.next_u64() & 0xffff_ffff_ffff
        )
    }
}

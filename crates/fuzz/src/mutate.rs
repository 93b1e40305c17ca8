//! Mutations: byte-level, token-level (JSON-shaped), and splices of two inputs.

/// A small, fast, deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded (0 becomes 1).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Tokens that reach parser corners.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"null",
    b"true",
    b"-0",
    b"1e999",
    b"18446744073709551616",
    b"\\u0000",
    b"\\ud800",
    b"\\n",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff",
    b"\xe2\x82",
    b"..",
    b"/",
    b"../../",
    b"\"hook_event_name\":\"Stop\"",
    b"\"hook_event_name\":\"PreToolUse\"",
    b"\"tool_name\":\"Write\"",
    b"\"tool_input\":{}",
    b"\"session_id\":\"s\"",
    b"\"agent_id\":\"a\"",
    b"\"stop_hook_active\":true",
    b"\"type\":\"assistant\"",
    b"\"usage\":{\"input_tokens\":1}",
    b"\"mode\":\"off\"",
    b"\"threshold\":",
];

/// One mutated copy of `input`, with `other` available for splices.
#[must_use]
pub fn mutate(input: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = out.len();
        match rng.below(9) {
            0 if len > 0 => {
                let at = rng.below(len);
                out[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(len + 1);
                let byte = u8::try_from(rng.below(256)).unwrap_or(0);
                out.insert(at, byte);
            }
            2 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                out.drain(at..at + n);
            }
            3 => {
                let at = rng.below(len + 1);
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(256));
                let piece = out[at..at + n].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, piece);
            }
            5 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            6 => {
                let depth = 1 + rng.below(5000);
                let at = rng.below(len + 1);
                let open = if rng.below(2) == 0 { b'[' } else { b'{' };
                out.splice(at..at, std::iter::repeat_n(open, depth));
            }
            7 if len > 0 => {
                // Cut: truncated inputs are common in real life (a half-written line).
                out.truncate(rng.below(len));
            }
            _ => {
                let at = rng.below(len + 1);
                let n = rng.below(2000);
                let byte = b"a 0\"\\"[rng.below(5)];
                out.splice(at..at, std::iter::repeat_n(byte, n));
            }
        }
    }
    out.truncate(1 << 20);
    out
}

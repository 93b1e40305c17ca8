//! Text strategies shared by the distance property tests.

use proptest::prelude::*;

/// Texts over a small alphabet (so distances are interesting), up to `max_len` bytes.
pub(crate) fn text(alphabet: &[u8], max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(alphabet.to_vec()), 0..max_len)
}

/// Pairs that are often close: `b` is `a` (from [`text`]) with up to `max_edits - 1` random edits.
pub(crate) fn close_pair(
    alphabet: &[u8],
    max_len: usize,
    max_edits: usize,
) -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        text(alphabet, max_len),
        prop::collection::vec((any::<u16>(), 0u8..3, any::<u8>()), 0..max_edits),
    )
        .prop_map(|(a, edits)| {
            let mut b = a.clone();
            for (at, op, byte) in edits {
                let at = usize::from(at) % (b.len() + 1);
                match op {
                    0 => b.insert(at, byte % 4 + b'a'),
                    1 if at < b.len() => {
                        b.remove(at);
                    }
                    _ if at < b.len() => b[at] = byte % 4 + b'a',
                    _ => {}
                }
            }
            (a, b)
        })
}

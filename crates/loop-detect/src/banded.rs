//! Edit distance with a bound, 64 cells at a time: Myers' bit-vector algorithm in Hyyrö's formulation,
//! over blocks of 64 rows, restricted to the diagonal band a distance of at most `k` can use (Ukkonen) and
//! to the blocks whose cells can still be at most `k`.
//!
//! **The table.** Rows are the bytes of `a` (the pattern), columns the bytes of `b`; `D[i][j]` is the
//! distance of `a[..i]` and `b[..j]`. A column is kept as vertical deltas: bit `r` of block `q` is row
//! `64q + r + 1`; `pv` marks a delta of +1 from the row above, `mv` of -1. A block's `score` is the value
//! of its bottom row. One step computes a block's next column from its current one, the byte of `b`,
//! and the horizontal delta entering its top row (`hin`), and gives the delta leaving its bottom row.
//!
//! **What is computed.** Only the blocks between `first` and `last`:
//! - a cell on a path from `(0, 0)` to `(n, m)` of cost at most `k` has a diagonal `j - i` with
//!   `|diag| + |(m - n) - diag| <= k`; blocks wholly outside that band are never computed;
//! - below, a block is dropped when its bottom value is at least `k + 64` (every cell of it is then more
//!   than `k`), and the next block is added again when the last one's bottom cell, before or after the
//!   step, is at most `k` (a path at most `k` may then enter it).
//!
//! Cells not computed are taken to be what a straight path gives (the top boundary grows by one per
//! column; a re-added block's previous column grows by one per row from the block above). Those are
//! costs of real paths, so every computed value is at least the true one, and exact on every optimal path
//! of cost at most `k`: it never leaves the computed blocks. So the result is exact when the distance is
//! at most `k`, and `None` otherwise. Work: about `m · k / 64` block steps, fewer when the texts part.

/// Bits in a block.
const W: usize = 64;

/// The bottom bit of a block.
const HIGH: u64 = 1 << (W - 1);

/// The Levenshtein distance of `a` and `b` if it is at most `k`, else `None`.
#[must_use]
#[allow(clippy::many_single_char_names)] // a, b, n, m, k: the algorithm's own notation
pub fn banded_distance(a: &[u8], b: &[u8], k: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > k {
        return None;
    }
    if n == 0 {
        return Some(m);
    }
    let band = Band::new(n, m, k);
    let blocks = n.div_ceil(W);
    let peq = Peq::new(a, blocks);
    let mut pv = vec![u64::MAX; blocks];
    let mut mv = vec![0u64; blocks];
    // Column 0: D[i][0] = i, so block q's bottom row holds 64(q + 1).
    let mut score: Vec<usize> = (1..=blocks).map(|q| q * W).collect();
    let (mut first, mut last) = (0, band.last_row(0).min(n).max(1).div_ceil(W) - 1);
    for (j, &byte) in b.iter().enumerate() {
        let column = j + 1;
        let eq = peq.row_of(byte);
        // The top row of the first block grows by one per column (the boundary, or a path above the band).
        let mut hin = 1;
        let before = score[last];
        for q in first..=last {
            let hout = step(&mut pv[q], &mut mv[q], eq[q], hin);
            score[q] = add(score[q], hout);
            hin = hout;
        }
        // Blocks below: added while a path of at most `k` may enter them, which it can only from the
        // bottom cell of the block above, in the column before (diagonally) or in this one (downwards).
        // Both are covered by the column before: neighbours differ by at most one, so a bottom cell at
        // most `k - 1` now (needed to step down) was at most `k` then.
        let mut above_before = before;
        while last + 1 < blocks && band.holds_block(last + 1, column) && above_before <= k {
            last += 1;
            pv[last] = u64::MAX;
            mv[last] = 0;
            above_before += W;
            let hout = step(&mut pv[last], &mut mv[last], eq[last], hin);
            score[last] = add(above_before, hout);
            hin = hout;
        }
        while last > first && score[last] >= k + W {
            last -= 1;
        }
        while first < last && !band.holds_block(first, column) {
            first += 1;
        }
        if score[last] >= k + W || !band.holds_block(last, column) {
            return None;
        }
    }
    if last + 1 != blocks {
        return None;
    }
    // Rows past `n` in the last block are padding: take their deltas back off its bottom value.
    let pad = if n % W == 0 { 0 } else { u64::MAX << (n % W) };
    let down = (pv[last] & pad).count_ones() as usize;
    let up = (mv[last] & pad).count_ones() as usize;
    let distance = (score[last] + up).checked_sub(down)?;
    (distance <= k).then_some(distance)
}

/// `value + delta` for a delta of -1, 0 or +1 (never below zero: a table value is a distance).
fn add(value: usize, delta: i8) -> usize {
    match delta {
        1 => value + 1,
        -1 => value.saturating_sub(1),
        _ => value,
    }
}

/// One column step of one block (Hyyrö's formulation of Myers' algorithm): from the vertical deltas
/// `pv`/`mv` of the previous column, the match mask `eq` and the horizontal delta `hin` entering the top,
/// the deltas of the new column; returns the horizontal delta leaving the bottom row.
fn step(pv: &mut u64, mv: &mut u64, eq: u64, hin: i8) -> i8 {
    let hin_negative = u64::from(hin < 0);
    let xv = eq | *mv;
    let eq = eq | hin_negative;
    let xh = ((eq & *pv).wrapping_add(*pv) ^ *pv) | eq;
    let mut ph = *mv | !(xh | *pv);
    let mut mh = *pv & xh;
    let hout = if ph & HIGH != 0 {
        1
    } else if mh & HIGH != 0 {
        -1
    } else {
        0
    };
    ph = (ph << 1) | u64::from(hin > 0);
    mh = (mh << 1) | hin_negative;
    *pv = mh | !(xv | ph);
    *mv = ph & xv;
    hout
}

/// The diagonals a path of cost at most `k` from `(0, 0)` to `(n, m)` can use: `j - i` in `lo..=hi`.
struct Band {
    lo: isize,
    hi: isize,
    n: usize,
}

impl Band {
    fn new(n: usize, m: usize, k: usize) -> Self {
        let signed = |x: usize| isize::try_from(x).unwrap_or(isize::MAX);
        let target = signed(m) - signed(n);
        let slack = (signed(k) - target.abs()) / 2;
        Self {
            lo: target.min(0) - slack,
            hi: target.max(0) + slack,
            n,
        }
    }

    /// The lowest row the band reaches in `column`.
    fn last_row(&self, column: usize) -> usize {
        usize::try_from(isize::try_from(column).unwrap_or(isize::MAX) - self.lo).unwrap_or(0)
    }

    /// Whether block `q` (rows `64q + 1 ..= 64q + 64`) meets the band in `column`.
    fn holds_block(&self, q: usize, column: usize) -> bool {
        let column = isize::try_from(column).unwrap_or(isize::MAX);
        let top = isize::try_from(q * W + 1).unwrap_or(isize::MAX);
        let bottom = isize::try_from((q * W + W).min(self.n)).unwrap_or(isize::MAX);
        top <= column - self.lo && bottom >= column - self.hi
    }
}

/// The match masks of the pattern: for each byte value that occurs in it, one word per block with the
/// bits of the rows holding that byte. Bytes that never occur share one all-zero row.
struct Peq {
    /// Row index per byte value (0: absent).
    index: [u16; 256],
    blocks: usize,
    masks: Vec<u64>,
}

impl Peq {
    fn new(a: &[u8], blocks: usize) -> Self {
        let mut index = [0u16; 256];
        let mut symbols = 1u16;
        for &c in a {
            if index[usize::from(c)] == 0 {
                index[usize::from(c)] = symbols;
                symbols += 1;
            }
        }
        let mut masks = vec![0u64; usize::from(symbols) * blocks];
        for (i, &c) in a.iter().enumerate() {
            masks[usize::from(index[usize::from(c)]) * blocks + i / W] |= 1 << (i % W);
        }
        Self {
            index,
            blocks,
            masks,
        }
    }

    /// The masks of every block for `byte`.
    fn row_of(&self, byte: u8) -> &[u64] {
        let at = usize::from(self.index[usize::from(byte)]) * self.blocks;
        &self.masks[at..at + self.blocks]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::similarity::levenshtein_plain;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(banded_distance(b"kitten", b"sitting", 3), Some(3));
        assert_eq!(banded_distance(b"kitten", b"sitting", 2), None);
        assert_eq!(banded_distance(b"", b"abc", 3), Some(3));
        assert_eq!(banded_distance(b"abc", b"", 3), Some(3));
        assert_eq!(banded_distance(b"abc", b"abc", 0), Some(0));
        let long: Vec<u8> = (0..1000u32)
            .map(|i| b"abcdefg"[(i * 7 % 13 % 7) as usize])
            .collect();
        let mut other = long.clone();
        other[500] = b'z';
        other.insert(10, b'y');
        assert_eq!(banded_distance(&long, &other, 5), Some(2));
        assert_eq!(banded_distance(&long, &other, 1), None);
    }

    /// Texts longer than one block over a small alphabet, so paths cross block borders and the band.
    fn text() -> impl Strategy<Value = Vec<u8>> {
        crate::strategies::text(b"ab c", 300)
    }

    /// `b` is `a` with some edits, so distances fall on both sides of `k`.
    fn close_pair() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
        crate::strategies::close_pair(b"ab c", 300, 40)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn agrees_with_the_plain_programme(a in text(), b in text(), k in 0usize..400) {
            let plain = levenshtein_plain(&a, &b);
            prop_assert_eq!(banded_distance(&a, &b, k), (plain <= k).then_some(plain));
        }

        #[test]
        fn agrees_on_close_pairs((a, b) in close_pair(), k in 0usize..80) {
            let plain = levenshtein_plain(&a, &b);
            prop_assert_eq!(banded_distance(&a, &b, k), (plain <= k).then_some(plain));
        }
    }
}

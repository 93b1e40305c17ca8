//! How alike two outputs are, defined once.
//!
//! **Definition.** Both texts are first [`normalise`]d: runs of ASCII whitespace become one space, and the
//! parts that change between otherwise identical attempts are masked with `#`: UUIDs, hex ids (7 or more
//! hex digits with at least one digit, e.g. a git hash), and every run of decimal digits (numbers, counters,
//! the digits of timestamps, of paths such as `run-17/log3.txt`). Then, over the bytes of the normalised
//! texts `a` and `b`:
//!
//! `similarity(a, b) = 1 - levenshtein(a, b) / max(len a, len b)` (1 for two empty texts).
//!
//! **Bounded work.** Deciding "more than `t` alike" only needs to know whether the distance is at most
//! `k`, the largest distance that still passes. [`is_similar`] answers that without the full
//! quadratic table:
//!
//! 1. equal texts pass; a common prefix and suffix never change the distance and are cut off;
//! 2. cheap lower bounds reject early: the length difference, the byte histogram (each edit fixes at most
//!    one surplus and one deficit), and hashed 3-gram and 8-gram profiles (each edit changes at most 2q
//!    q-gram counts);
//! 3. the distance itself: first by diagonal transitions (Ukkonen / Landau-Vishkin), O(n + d²) for a
//!    distance `d`, sliding along matches 8 bytes at a time, abandoned past [`DIAGONAL_LIMIT`]; a larger
//!    distance by the bit-parallel band ([`banded_distance`]: Myers/Hyyrö, 64 cells per step, only the
//!    diagonals and blocks a distance of at most `k` can use), about `n · k / 64` steps.
//!
//! The worst case is texts that pass every bound yet differ a lot (the same lines in another order, or
//! different text from a small vocabulary). Diagonal transitions alone took about k²/2 steps there (65 ms
//! whole-process on 32 KiB); the band bounds it by `n · k / 64`. A long output is compared by its first
//! and last [`MAX_COMPARED`]/2 normalised bytes (a stuck agent repeats itself at both ends): 4 KiB, since
//! texts with edits scattered evenly at just under the threshold's distance cost about `n · 2k / 64` for
//! every pair, which at 32 KiB was 30 ms for the three pairs of a window (issue 35, item 27, measured on
//! 100 KB answers of one line each) and 4 ms at 8 KiB (42 million instructions, callgrind).
//!
//! A property test checks that [`is_similar`] agrees with [`similarity_plain`] (the textbook dynamic
//! programme) on every input.

use crate::banded::banded_distance;

/// How much of each normalised output is compared (4 KiB: the first and the last 2 KiB).
pub const MAX_COMPARED: usize = 4 << 10;

/// The masked form of a number, id or UUID.
const MASK: u8 = b'#';

/// What is compared of `text`: its normalised form, or of a longer one the first and last `cap / 2`
/// bytes.
#[must_use]
pub fn comparable(text: &str, cap: usize) -> Vec<u8> {
    let mut full = normalise(text, usize::MAX);
    if full.len() > cap {
        let tail = full.len() - (cap - cap / 2);
        full.copy_within(tail.., cap / 2);
        full.truncate(cap);
    }
    full
}

/// The normalised form of `text`, at most `cap` bytes.
#[must_use]
pub fn normalise(text: &str, cap: usize) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len().min(cap));
    let mut space = false;
    let mut i = 0;
    while i < bytes.len() && out.len() < cap {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            space = !out.is_empty();
            i += 1;
            continue;
        }
        if space {
            out.push(b' ');
            space = false;
        }
        if !b.is_ascii_alphanumeric() {
            out.push(b);
            i += 1;
            continue;
        }
        if let Some(end) = uuid_end(bytes, i) {
            out.push(MASK);
            i = end;
            continue;
        }
        let end = i + bytes[i..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .unwrap_or(bytes.len() - i);
        let word = &bytes[i..end];
        if is_hex_id(word) {
            out.push(MASK);
        } else {
            let mut in_digits = false;
            for &c in word {
                if c.is_ascii_digit() {
                    if !in_digits {
                        out.push(MASK);
                    }
                    in_digits = true;
                } else {
                    out.push(c);
                    in_digits = false;
                }
            }
        }
        i = end;
    }
    out.truncate(cap);
    out
}

/// The end of a UUID (`8-4-4-4-12` hex digits) starting at `i`, if one does and is not part of a longer word.
fn uuid_end(bytes: &[u8], i: usize) -> Option<usize> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut at = i;
    for (n, len) in GROUPS.iter().enumerate() {
        if n > 0 {
            if bytes.get(at) != Some(&b'-') {
                return None;
            }
            at += 1;
        }
        let group = bytes.get(at..at + len)?;
        if !group.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        at += len;
    }
    if bytes.get(at).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(at)
}

/// A hex id: 7 or more hex digits, at least one of them a decimal digit.
fn is_hex_id(word: &[u8]) -> bool {
    word.len() >= 7 && word.iter().all(u8::is_ascii_hexdigit) && word.iter().any(u8::is_ascii_digit)
}

/// True when every pair of `outputs` is more than `threshold` alike (and there are at least two).
/// The newest pairs are compared first: a loop shows there first, and a mismatch ends the check.
#[must_use]
pub fn all_similar(outputs: &[Vec<u8>], threshold: f64) -> bool {
    if outputs.len() < 2 {
        return false;
    }
    for i in (0..outputs.len()).rev() {
        for j in (0..i).rev() {
            if !is_similar(&outputs[i], &outputs[j], threshold) {
                return false;
            }
        }
    }
    true
}

/// The similarity by the plain definition: the full O(n·m) dynamic programme. For tests and reference.
#[must_use]
pub fn similarity_plain(a: &[u8], b: &[u8]) -> f64 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    ratio(levenshtein_plain(a, b), longest)
}

/// `1 - distance / longest`, the one place the formula is written.
fn ratio(distance: usize, longest: usize) -> f64 {
    1.0 - distance as f64 / longest as f64
}

/// Levenshtein distance by the textbook dynamic programme (two rows).
#[must_use]
pub fn levenshtein_plain(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// True when `similarity(a, b) > threshold`, with bounded work (see the module docs).
#[must_use]
pub fn is_similar(a: &[u8], b: &[u8], threshold: f64) -> bool {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0 > threshold;
    }
    match max_passing_distance(longest, threshold) {
        None => false,
        Some(k) => bounded_distance(a, b, k).is_some(),
    }
}

/// The largest distance whose [`ratio`] is still above `threshold`, computed with the same floating-point
/// expression as the plain definition so the two never disagree at the boundary.
fn max_passing_distance(longest: usize, threshold: f64) -> Option<usize> {
    let passes = |d: usize| ratio(d, longest) > threshold;
    if !passes(0) {
        return None;
    }
    // An estimate, then corrected by the exact test (at most a step or two either way).
    let estimate = ((1.0 - threshold) * longest as f64).floor().max(0.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mut k = (estimate as usize).min(longest);
    while k > 0 && !passes(k) {
        k -= 1;
    }
    while k < longest && passes(k + 1) {
        k += 1;
    }
    Some(k)
}

/// The Levenshtein distance of `a` and `b` if it is at most `k`, else `None`.
#[must_use]
pub fn bounded_distance(a: &[u8], b: &[u8], k: usize) -> Option<usize> {
    let prefix = common_prefix(a, b);
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = common_suffix(a, b);
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.len().abs_diff(b.len()) > k {
        return None;
    }
    if a.is_empty() || b.is_empty() {
        return Some(a.len().max(b.len()));
    }
    if histogram_bound(a, b) > k || qgram_bound(a, b) > k {
        return None;
    }
    if k <= DIAGONAL_LIMIT {
        return diagonal_distance(a, b, k);
    }
    diagonal_distance(a, b, DIAGONAL_LIMIT).or_else(|| banded_distance(a, b, k))
}

/// Up to this distance, diagonal transitions (about d² steps, sliding over matches 8 bytes at a time)
/// beat the bit-parallel band (about `len · k / 64` steps whatever the distance); past it, the band.
const DIAGONAL_LIMIT: usize = 256;

/// The length of the common prefix, compared 8 bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let shorter = a.len().min(b.len());
    let mut at = 0;
    while at + 8 <= shorter {
        let word = |s: &[u8]| u64::from_ne_bytes(s[at..at + 8].try_into().unwrap_or_default());
        if word(a) != word(b) {
            break;
        }
        at += 8;
    }
    while at < shorter && a[at] == b[at] {
        at += 1;
    }
    at
}

/// The length of the common suffix.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// A lower bound from byte counts: an edit removes at most one surplus byte and one missing byte.
fn histogram_bound(a: &[u8], b: &[u8]) -> usize {
    let mut counts = [0i64; 256];
    for &c in a {
        counts[usize::from(c)] += 1;
    }
    for &c in b {
        counts[usize::from(c)] -= 1;
    }
    let (surplus, missing) = counts.iter().fold((0u64, 0u64), |(s, m), &c| {
        if c > 0 {
            (s + c.unsigned_abs(), m)
        } else {
            (s, m + c.unsigned_abs())
        }
    });
    usize::try_from(surplus.max(missing)).unwrap_or(usize::MAX)
}

/// Buckets of a hashed q-gram profile. Collisions only merge counts, which can only lower the bound.
const QGRAM_BUCKETS: usize = 1 << 16;

/// A lower bound from q-gram profiles: one edit changes at most `q` grams away and `q` grams in, so the
/// distance is at least the profiles' L1 difference / 2q. Short grams catch different wording; long
/// ones (8 bytes, across word boundaries) catch the same words in another order.
fn qgram_bound(a: &[u8], b: &[u8]) -> usize {
    let mut counts = vec![0i32; QGRAM_BUCKETS];
    [3, 8]
        .into_iter()
        .map(|q| qgram_bound_for(a, b, q, &mut counts))
        .max()
        .unwrap_or(0)
}

fn qgram_bound_for(a: &[u8], b: &[u8], q: usize, counts: &mut [i32]) -> usize {
    if a.len() < q || b.len() < q {
        return 0;
    }
    counts.fill(0);
    let bucket = |w: &[u8]| {
        let mut key = [0u8; 8];
        key[..w.len()].copy_from_slice(w);
        let h = u64::from_le_bytes(key).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        usize::try_from(h >> 48).unwrap_or(0)
    };
    for w in a.windows(q) {
        counts[bucket(w)] += 1;
    }
    for w in b.windows(q) {
        counts[bucket(w)] -= 1;
    }
    let l1: u64 = counts.iter().map(|c| u64::from(c.unsigned_abs())).sum();
    usize::try_from(l1.div_ceil(2 * q as u64)).unwrap_or(usize::MAX)
}

/// Edit distance by diagonal transitions, giving up past `k`. `a` and `b` are non-empty.
///
/// On diagonal `j - i = diag`, `row[diag]` is the furthest `i` reachable with `d` edits. Each level takes
/// the best of a substitution (same diagonal), a deletion (from `diag + 1`) and an insertion (from
/// `diag - 1`), then slides along equal bytes.
/// An unreached diagonal (low enough that `+ 1` never makes it look reached).
const NONE: i64 = i64::MIN / 2;

#[allow(clippy::many_single_char_names)] // a, b, n, m, k, d, i: the algorithm's own notation
fn diagonal_distance(a: &[u8], b: &[u8], k: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    let (n_i, m_i) = (to_i64(n), to_i64(m));
    let k_i = to_i64(k);
    let offset = k_i + 1;
    let width = 2 * k + 3;
    let mut prev = vec![NONE; width];
    let mut cur = vec![NONE; width];
    let target = m_i - n_i;
    let slide = |i: i64, diag: i64| -> i64 {
        let (iu, ju) = (to_usize(i), to_usize(i + diag));
        i + to_i64(common_prefix(&a[iu..], &b[ju..]))
    };
    let start = slide(0, 0);
    prev[to_usize(offset)] = start;
    if target == 0 && start == n_i {
        return Some(0);
    }
    for d in 1..=k_i {
        // Ukkonen's cut: a diagonal farther than `k - d` from the target one cannot end within `k`.
        let lo = (-d).max(-n_i).max(target - (k_i - d));
        let hi = d.min(m_i).min(target + (k_i - d));
        for diag in lo..=hi {
            let at = to_usize(diag + offset);
            let substitution = prev[at] + 1;
            let deletion = prev[at + 1] + 1;
            let insertion = prev[at - 1];
            let mut i = substitution.max(deletion).max(insertion);
            if i < 0 {
                // Unreachable with fewer edits: the diagonal starts at its own origin.
                if diag < 0 && -diag == d {
                    i = d;
                } else if diag > 0 && diag == d {
                    i = 0;
                } else {
                    continue;
                }
            }
            i = i.min(n_i).min(m_i - diag);
            if i < 0 || i + diag < 0 {
                continue;
            }
            let i = slide(i, diag);
            cur[at] = i;
            if diag == target && i == n_i {
                return Some(to_usize(d));
            }
        }
        std::mem::swap(&mut prev, &mut cur);
        cur.fill(NONE);
    }
    None
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalise_masks_what_changes_between_attempts() {
        let a = normalise(
            "Run 17 failed at 2026-11-21T10:00:03Z  in out/run-17/log3.txt\n(commit 3f2a9c1, id 0123abcd-feed-4bad-beef-000000000001)",
            1 << 20,
        );
        let b = normalise(
            "Run 18 failed at 2026-11-21T10:04:59Z in out/run-18/log4.txt (commit 9e8d7c6, id 9f8e7d6c-1234-4bad-beef-00000000abcd)",
            1 << 20,
        );
        assert_eq!(a, b);
        assert_eq!(
            String::from_utf8(a).unwrap(),
            "Run # failed at #-#-#T#:#:#Z in out/run-#/log#.txt (commit #, id #)"
        );
        assert_eq!(normalise("  a \t\n b  ", 100), b"a b");
        assert_eq!(normalise("deadbeef cafe", 100), b"deadbeef cafe");
        assert_eq!(normalise("0123456789", 4), b"#");
        assert_eq!(normalise("abcdefgh", 4), b"abcd");
        assert_eq!(comparable("ab  cdefgh", 5), b"abfgh");
        assert_eq!(comparable("ab cd", 5), b"ab cd");
    }

    #[test]
    fn similarity_examples() {
        assert!((similarity_plain(b"", b"") - 1.0).abs() < f64::EPSILON);
        assert!((similarity_plain(b"abcd", b"abce") - 0.75).abs() < f64::EPSILON);
        assert!(is_similar(b"abcdefghij", b"abcdefghiX", 0.85));
        assert!(!is_similar(b"abcdefghij", b"abcdefghiX", 0.9));
        assert!(is_similar(b"kitten", b"sitting", 0.5));
        assert!(!is_similar(b"kitten", b"sitting", 0.6));
        assert_eq!(bounded_distance(b"kitten", b"sitting", 3), Some(3));
        assert_eq!(bounded_distance(b"kitten", b"sitting", 2), None);
    }

    fn text() -> impl Strategy<Value = Vec<u8>> {
        crate::strategies::text(b"ab c\n", 120)
    }

    /// Pairs that are often close: `b` is `a` with a few random edits.
    fn close_pair() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
        crate::strategies::close_pair(b"ab c\n", 120, 6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn bounded_distance_agrees_with_the_plain_programme(a in text(), b in text(), k in 0usize..150) {
            let plain = levenshtein_plain(&a, &b);
            prop_assert_eq!(bounded_distance(&a, &b, k), (plain <= k).then_some(plain));
        }

        #[test]
        fn bounded_distance_agrees_on_close_pairs((a, b) in close_pair(), k in 0usize..10) {
            let plain = levenshtein_plain(&a, &b);
            prop_assert_eq!(bounded_distance(&a, &b, k), (plain <= k).then_some(plain));
        }

        #[test]
        fn the_fast_test_agrees_with_the_definition((a, b) in close_pair(), t in 0.0f64..1.0) {
            prop_assert_eq!(is_similar(&a, &b, t), similarity_plain(&a, &b) > t);
        }

        #[test]
        fn the_fast_test_agrees_on_unrelated_texts(a in text(), b in text(), t in prop::sample::select(vec![0.5, 0.8, 0.9, 0.95])) {
            prop_assert_eq!(is_similar(&a, &b, t), similarity_plain(&a, &b) > t);
        }

        #[test]
        fn normalising_is_idempotent_on_its_own_output(s in "[ a-f0-9xyz:.\\-\n]{0,80}") {
            let once = normalise(&s, 1 << 20);
            let twice = normalise(std::str::from_utf8(&once).unwrap(), 1 << 20);
            prop_assert_eq!(once, twice);
        }
    }
}

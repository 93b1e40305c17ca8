//! Every seed and every saved regression passes its target: what the fuzzer once found stays fixed.

#![allow(clippy::unwrap_used)]

use portcullis_fuzz::{TARGETS, regressions, seeds};

#[test]
fn seeds_and_regressions_pass() {
    for (name, target) in TARGETS {
        let seeds = seeds(name);
        assert!(!seeds.is_empty(), "{name}: no seeds");
        for (i, input) in seeds.iter().enumerate() {
            target(input).unwrap_or_else(|e| panic!("{name} seed {i}: {e}"));
        }
        for (path, input) in regressions(name) {
            target(&input).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

#[test]
fn the_naive_reader_model_is_right_on_known_cases() {
    use portcullis_fuzz::targets::naive_lines;
    assert_eq!(
        naive_lines(b"a\nb\n\nc", u64::MAX),
        vec![b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]
    );
    assert_eq!(
        naive_lines(b"aaaa\nbb\ncc\n", 5),
        vec![b"cc".to_vec()],
        "the window's partial first line is left out"
    );
    assert_eq!(naive_lines(b"", 3), Vec::<Vec<u8>>::new());
}

#[test]
fn the_targets_catch_what_they_claim_to() {
    // A property that fails must be reported, not swallowed: an input the transcript target knows is fine,
    // and a verdict target input with a block for every event.
    let transcript = TARGETS.iter().find(|(n, _)| *n == "transcript").unwrap().1;
    transcript(b"\x05\x03line one\nline two\n").unwrap();
    let verdict = TARGETS.iter().find(|(n, _)| *n == "verdict").unwrap().1;
    verdict(b"\x01reason|context|message").unwrap();
}

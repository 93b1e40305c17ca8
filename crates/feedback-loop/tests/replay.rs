//! Fixture replay: every case in `fixtures/feedback-loop/` is one process run on a real captured event,
//! with the state it starts from in `<case>.in` and the state it must leave in `<case>.out`, checked byte
//! for byte (see `portcullis-testkit`). Bless with `PORTCULLIS_BLESS=1 cargo test -p feedback-loop --test replay`.

#[test]
fn fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/feedback-loop");
    portcullis_testkit::run_dir(
        &dir,
        &[(
            "feedback-loop",
            std::path::Path::new(env!("CARGO_BIN_EXE_feedback-loop")),
        )],
    );
}

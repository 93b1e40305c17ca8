//! Fixture replay: every case in `fixtures/agent-first/` is one process run, checked byte for byte (see
//! `portcullis-testkit`). Bless with `PORTCULLIS_BLESS=1 cargo test -p agent-first --test replay`.

#[test]
fn fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/agent-first");
    portcullis_testkit::run_dir(
        &dir,
        &[(
            "agent-first",
            std::path::Path::new(env!("CARGO_BIN_EXE_agent-first")),
        )],
    );
}

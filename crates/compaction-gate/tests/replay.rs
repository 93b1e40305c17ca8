//! Fixture replay: every case in `fixtures/compaction-gate/` is one process run, checked byte for byte (see
//! `portcullis-testkit`). Bless with `PORTCULLIS_BLESS=1 cargo test -p compaction-gate --test replay`.

#[test]
fn fixtures() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/compaction-gate");
    portcullis_testkit::run_dir(
        &dir,
        &[(
            "compaction-gate",
            std::path::Path::new(env!("CARGO_BIN_EXE_compaction-gate")),
        )],
    );
}

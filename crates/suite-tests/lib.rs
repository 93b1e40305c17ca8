//! Owns the top-level `tests/` folder (see `[[test]]` in Cargo.toml); no code of its own.

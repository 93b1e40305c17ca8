//! Helpers shared by the suite's tests.

use std::path::Path;
use std::process::{Command, Output};

use portcullis_testkit::workspace_bin;

/// Runs the hook binary `hook` on `input` in project `root` as the client would (cleared environment,
/// `CLAUDE_PROJECT_DIR` set, a HOME that holds nothing); panics when it does not exit 0.
pub(crate) fn run_hook(hook: &str, root: &Path, input: &[u8]) -> Output {
    let mut cmd = Command::new(workspace_bin(hook));
    cmd.current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root.join("no-home"))
        .env("CLAUDE_PROJECT_DIR", root);
    let out = portcullis_testkit::run_with_stdin(&mut cmd, input).unwrap();
    assert!(
        out.status.success(),
        "{hook}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A small deterministic generator (xorshift64); tests print the seed with every failure.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number below `n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A seed from the clock (never 0).
pub(crate) fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| {
            d.as_secs().rotate_left(32) ^ u64::from(d.subsec_nanos())
        })
        | 1
}

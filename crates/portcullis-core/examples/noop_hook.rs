//! A hook built on the chassis that allows everything: the yardstick for the chassis's own cost.
//! `cargo build --release -p portcullis-core --example noop_hook`

use portcullis_core::{Ctx, Event, Failure, Hook, Result, Verdict};

struct Noop;

impl Hook for Noop {
    const NAME: &'static str = "noop-hook";
    const ON_ERROR: Failure = Failure::Open;

    fn decide(_: &Event, _: &Ctx) -> Result<Verdict> {
        Ok(Verdict::allow())
    }
}

fn main() -> std::process::ExitCode {
    portcullis_core::run::<Noop>()
}

//! `portcullis-fuzz [TARGET|all] [--seconds N] [--seed S]`: runs targets for a set time each, prints
//! executions per target, saves a failing input under `fuzz/findings/<target>/` and exits 1.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use portcullis_fuzz::mutate::{Rng, mutate};
use portcullis_fuzz::{TARGETS, Target, root, seeds};

struct Args {
    targets: Vec<(&'static str, Target)>,
    seconds: u64,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut which = "all".to_owned();
    let mut seconds = 20;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() ^ u64::from(d.subsec_nanos()));
    while let Some(a) = args.next() {
        let number = |v: Option<String>, what: &str| {
            v.and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("{what} takes a number"))
        };
        match a.as_str() {
            "--seconds" => seconds = number(args.next(), "--seconds")?,
            "--seed" => seed = number(args.next(), "--seed")?,
            t if !t.starts_with('-') => t.clone_into(&mut which),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let targets: Vec<(&'static str, Target)> = TARGETS
        .iter()
        .copied()
        .filter(|(n, _)| which == "all" || *n == which)
        .collect();
    if targets.is_empty() {
        let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "no target {which:?} (targets: all, {})",
            names.join(", ")
        ));
    }
    Ok(Args {
        targets,
        seconds,
        seed,
    })
}

/// Runs one input; `Err` describes a failed property or a panic.
fn check(target: Target, input: &[u8]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| target(input))) {
        Ok(result) => result,
        Err(payload) => Err(payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .map_or_else(|| "panic".to_owned(), |m| format!("panic: {m}"))),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "portcullis-fuzz: {e}");
            return ExitCode::from(64);
        }
    };
    // Panics are findings, reported once with the input; the default hook's message would repeat them.
    std::panic::set_hook(Box::new(|_| {}));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "seed {} ({} s per target)", args.seed, args.seconds);
    let mut failed = false;
    for (name, target) in &args.targets {
        let corpus = seeds(name);
        let mut rng = Rng::new(args.seed ^ portcullis_core::state::stable_hash(name.bytes()));
        let started = Instant::now();
        let limit = Duration::from_secs(args.seconds);
        let mut execs: u64 = 0;
        let mut finding = None;
        for seed in &corpus {
            execs += 1;
            if let Err(e) = check(*target, seed) {
                finding = Some((seed.clone(), e));
                break;
            }
        }
        while finding.is_none() && started.elapsed() < limit {
            let base = &corpus[rng.below(corpus.len())];
            let other = &corpus[rng.below(corpus.len())];
            let input = mutate(base, other, &mut rng);
            execs += 1;
            if let Err(e) = check(*target, &input) {
                finding = Some((input, e));
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let _ = writeln!(
            out,
            "{name:<11} {execs:>9} executions in {secs:>5.1} s ({:>7.0}/s), {} seeds: {}",
            execs as f64 / secs.max(1e-9),
            corpus.len(),
            if finding.is_some() { "FAILED" } else { "ok" }
        );
        if let Some((input, why)) = finding {
            failed = true;
            let dir = root().join("fuzz/findings").join(name);
            let path = dir.join(format!(
                "{:016x}.bin",
                portcullis_core::state::stable_hash(input.iter().copied())
            ));
            let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &input));
            let _ = writeln!(
                out,
                "  {why}\n  input ({} bytes) {}: move it to fuzz/regressions/{name}/ once fixed",
                input.len(),
                saved.map_or_else(
                    |e| format!("not saved: {e}"),
                    |()| format!("saved as {}", path.display())
                )
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

//! Running another program with a time limit: input on stdin, bounded output, and a kill that reaches its
//! whole process group. Used by hooks that ask another program (an advisor model) and by `portcullis explain`/`replay`
//! (the hooks themselves).
//!
//! Never blocks past the limit: stdin is written and the pipes are read on their own threads, so a program
//! that does not read its input, or a grandchild that keeps a pipe open after the program exits, cannot
//! hold the caller. Output beyond `max_output` bytes per stream is read and dropped (so the program is
//! not stalled on a full pipe) and [`Finished::truncated`] says so.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long the pipes are still drained after the program has exited (a grandchild may hold them).
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    /// The exit code; `None` when killed (by the time limit or a signal).
    pub code: Option<i32>,
    /// What it printed on stdout, at most `max_output` bytes.
    pub stdout: Vec<u8>,
    /// What it printed on stderr, at most `max_output` bytes.
    pub stderr: Vec<u8>,
    /// True when it ran past the limit and was killed.
    pub timed_out: bool,
    /// True when a stream printed more than `max_output` bytes.
    pub truncated: bool,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Starts `command` in its own process group, writes `input` to its stdin, and waits at most `timeout`;
/// past that the group is killed. `Err` only when it cannot be started (e.g. not found).
pub fn run(
    mut command: Command,
    input: &[u8],
    timeout: Duration,
    max_output: usize,
) -> std::io::Result<Finished> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        // A program that exits without reading makes this fail with EPIPE: that is its business.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let stdout = drain(child.stdout.take(), max_output);
    let stderr = drain(child.stderr.take(), max_output);
    let mut timed_out = false;
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                timed_out = true;
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(_) => {
                let _ = child.kill();
                break None;
            }
        }
    };
    let (stdout, out_cut) = stdout.recv_timeout(DRAIN_GRACE).unwrap_or_default();
    let (stderr, err_cut) = stderr.recv_timeout(DRAIN_GRACE).unwrap_or_default();
    Ok(Finished {
        code,
        stdout,
        stderr,
        timed_out,
        truncated: out_cut || err_cut,
        elapsed: started.elapsed(),
    })
}

/// Reads a pipe to its end on a thread, keeping the first `max` bytes; the result arrives on the channel.
fn drain<R: Read + Send + 'static>(pipe: Option<R>, max: usize) -> mpsc::Receiver<(Vec<u8>, bool)> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut cut = false;
        if let Some(mut pipe) = pipe {
            let mut buf = [0u8; 8192];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = max.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                        cut |= n > room;
                    }
                }
            }
        }
        let _ = tx.send((kept, cut));
    });
    rx
}

/// Kills the process group `pgid` (the child started it with `process_group(0)`), so helpers the program
/// started die with it. Uses `kill(1)`: the workspace forbids `unsafe`, and this runs only on a timeout.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn passes_input_and_collects_output() {
        let f = run(
            sh("tr a-z A-Z; echo oops >&2; exit 3"),
            b"hint",
            Duration::from_secs(10),
            1024,
        )
        .unwrap();
        assert_eq!(f.code, Some(3));
        assert_eq!(f.stdout, b"HINT");
        assert_eq!(f.stderr, b"oops\n");
        assert!(!f.timed_out && !f.truncated);
    }

    #[test]
    fn kills_the_whole_group_at_the_limit() {
        // The grandchild keeps stdout open and would leave a file behind a second later: without the drain
        // grace this would hang, and without the group kill the file would appear.
        let t = tempfile::tempdir().unwrap();
        let mark = t.path().join("survived");
        let script = format!("(sleep 1; touch '{}') & sleep 30", mark.display());
        let f = run(sh(&script), b"", Duration::from_millis(300), 1024).unwrap();
        assert!(f.timed_out);
        assert_eq!(f.code, None);
        assert!(f.elapsed < Duration::from_secs(10), "{:?}", f.elapsed);
        thread::sleep(Duration::from_millis(1500));
        assert!(!mark.exists(), "a process of the group outlived the kill");
    }

    #[test]
    fn output_past_the_bound_is_dropped_and_flagged() {
        let f = run(
            sh("head -c 100000 /dev/zero"),
            b"",
            Duration::from_secs(10),
            1000,
        )
        .unwrap();
        assert_eq!(f.code, Some(0));
        assert_eq!(f.stdout.len(), 1000);
        assert!(f.truncated);
    }

    #[test]
    fn a_program_that_ignores_its_input_does_not_block() {
        let big = vec![b'x'; 4 << 20];
        let f = run(sh("echo hi"), &big, Duration::from_secs(10), 100).unwrap();
        assert_eq!(f.stdout, b"hi\n");
    }

    #[test]
    fn a_missing_program_is_an_error() {
        assert!(
            run(
                Command::new("/nonexistent/advisor"),
                b"",
                Duration::from_secs(1),
                10
            )
            .is_err()
        );
    }
}

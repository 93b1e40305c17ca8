//! File claims: one file per claimed project file under `<project>/.claude/locks/`.
//!
//! Invariants (what the stress test in `tests/process.rs` holds them to):
//! - **One holder.** A claim is made whole in a temp file, then `link(2)`ed to its name: the link fails
//!   when the name exists, so of two agents racing for one file exactly one wins, and a reader never sees
//!   a half-written claim (a `kill -9` mid-claim leaves only a temp file, which is swept later).
//! - **No lost claim.** A claim file is only ever removed under the folder's lock (`.claims.lock`), after
//!   reading it again under that lock: a release or a takeover can only remove the claim it judged.
//!   Creation needs no lock, since it cannot replace anything.
//! - **No link followed.** The folder and every folder above it up to the project must be real folders;
//!   claim files are opened with `O_NOFOLLOW`, and anything else found in a claim's place (a symlink, a
//!   FIFO, a file that is not a claim) is removed as stale, never read through.
//! - **Stale claims go.** A claim is stale when its session's client has ended (its `CLAUDE_PID` is gone or
//!   is another process now), or when its holder has not written the file for the configured age (each of
//!   the holder's writes refreshes the claim's mtime). A stale claim is taken over by the next writer.

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use portcullis_core::files::{check_real_dirs, open_own};
use portcullis_core::state::{stable_hash, with_lock};
use portcullis_core::{Deadline, Error, Result};
use serde::{Deserialize, Serialize};

/// Where claims live, relative to the project (the seed's place).
pub const LOCKS_DIR: &str = ".claude/locks";

/// A claim file is a few hundred bytes; anything larger is not one.
const MAX_CLAIM_BYTES: u64 = 64 << 10;

/// A temp file older than this was left by a writer that died between writing and linking it.
const TEMP_MAX_AGE: Duration = Duration::from_secs(60);

/// One agent's claim on one project file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The claimed file, relative to the project, `/`-separated.
    pub path: String,
    /// The holder's session.
    pub session: String,
    /// The holder: `main` for a session's main thread, else the subagent's `agent_id`.
    pub agent: String,
    /// The holder's agent type, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    /// When the claim was made.
    pub since: DateTime<Utc>,
    /// The pid of the holder's client (`CLAUDE_PID`), when it was known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_pid: Option<u32>,
    /// That process's start time (Linux clock ticks since boot), which tells a reused pid apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_start: Option<u64>,
}

impl Claim {
    /// Whether `other` is the same holder (session and agent).
    #[must_use]
    pub fn same_holder(&self, other: &Self) -> bool {
        self.session == other.session && self.agent == other.agent
    }

    /// The holder, as a person reads it: `subagent a3f8… (backend-developer)` or `the main thread`, and
    /// whose session.
    #[must_use]
    pub fn holder_text(&self, asking_session: &str) -> String {
        let who = if self.agent == "main" {
            "the main thread".to_owned()
        } else {
            match &self.agent_type {
                Some(t) => format!("subagent `{}` ({t})", self.agent),
                None => format!("subagent `{}`", self.agent),
            }
        };
        if self.session == asking_session {
            format!("{who} of this session")
        } else {
            format!("{who} of session `{}`", self.session)
        }
    }
}

/// A claim as found on disk.
#[derive(Debug, Clone)]
pub struct Found {
    /// The claim (`None` when the file is not a readable claim: it is then stale).
    pub claim: Option<Claim>,
    /// The claim file.
    pub file: PathBuf,
    /// Why it is stale, when it is.
    pub stale: Option<String>,
}

/// What [`Claims::acquire`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// The file was free; it is now claimed.
    New,
    /// The asker already held it (its mtime is refreshed).
    Own,
    /// The previous claim was stale, or the asker's own main thread held it: it is replaced.
    TakenOver {
        /// The claim that was replaced.
        previous: Box<Claim>,
        /// Why it could be.
        why: String,
    },
    /// Another live agent holds it.
    Refused(Box<Claim>),
}

/// The claims folder of one project.
#[derive(Debug, Clone)]
pub struct Claims {
    project: PathBuf,
    dir: PathBuf,
    stale_after: Duration,
}

impl Claims {
    /// The claims of `project`; a claim unrefreshed for `stale_after` is stale.
    #[must_use]
    pub fn new(project: &Path, stale_after: Duration) -> Self {
        Self::at(project, project.join(LOCKS_DIR), stale_after)
    }

    /// The claims of `project` kept in `dir` instead of `.claude/locks/` (`PORTCULLIS_LOCKS_DIR`).
    #[must_use]
    pub fn at(project: &Path, dir: PathBuf, stale_after: Duration) -> Self {
        Self {
            project: project.to_path_buf(),
            dir,
            stale_after,
        }
    }

    /// The claims folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The claim file for the project-relative `rel`: a readable form of the path and its hash (two
    /// paths that read the same still get two files).
    #[must_use]
    pub fn file_for(&self, rel: &str) -> PathBuf {
        let readable: String = rel
            .chars()
            .map(|c| match c {
                '/' => '%',
                c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') => c,
                _ => '_',
            })
            .take(96)
            .collect();
        let readable = readable.trim_start_matches('.');
        self.dir
            .join(format!("{readable}.{:016x}.lock", stable_hash(rel.bytes())))
    }

    /// Claims `me.path` for `me`'s holder, or says who holds it. `now` is the run's clock.
    pub fn acquire(&self, me: &Claim, now: SystemTime, deadline: &Deadline) -> Result<Acquired> {
        let file = self.file_for(&me.path);
        self.ensure_dir()?;
        // Each round either decides or saw the claim change under it; three changes in a row is a storm
        // of agents on one file, and the hook's failure policy answers it.
        for _ in 0..3 {
            if self.link_new(&file, me)? {
                return Ok(Acquired::New);
            }
            let found = self.read(&file, now);
            if let Some(held) = &found.claim {
                if held.same_holder(me) && held.path == me.path {
                    touch(&file);
                    return Ok(Acquired::Own);
                }
                let yields =
                    held.session == me.session && held.agent == "main" && me.agent != "main";
                if found.stale.is_none() && !yields {
                    return Ok(Acquired::Refused(Box::new(held.clone())));
                }
            }
            // Stale, or the asker's own main thread's: replace it under the lock, if it is still the
            // claim judged above.
            let replaced = with_lock(&self.dir.join(".claims.lock"), deadline, || {
                if self.read(&file, now).claim != found.claim {
                    return Ok(false);
                }
                remove(&file)?;
                self.link_new(&file, me)
            })?;
            if replaced {
                let why = found.stale.unwrap_or_else(|| {
                    "the main thread of this session held it, and a subagent works on its behalf"
                        .into()
                });
                return Ok(match found.claim {
                    Some(previous) => Acquired::TakenOver {
                        previous: Box::new(previous),
                        why,
                    },
                    None => Acquired::New,
                });
            }
        }
        Err(Error::Other(format!(
            "the claim on `{}` kept changing while it was read",
            me.path
        )))
    }

    /// Removes every claim `release` picks (and every stale one when `stale_too`), under the lock;
    /// returns the claims removed.
    pub fn release(
        &self,
        release: impl Fn(&Claim) -> bool,
        stale_too: bool,
        now: SystemTime,
        deadline: &Deadline,
    ) -> Result<Vec<Claim>> {
        if !self.dir.is_dir() {
            return Ok(Vec::new());
        }
        check_real_dirs(&self.project, &self.dir)
            .map_err(|e| Error::io("checking", &self.dir, e))?;
        let lock = self.dir.join(".claims.lock");
        with_lock(&lock, deadline, || {
            let mut gone = Vec::new();
            for found in self.list(now)? {
                let picked = found.claim.as_ref().is_some_and(&release);
                if picked || (stale_too && found.stale.is_some()) {
                    remove(&found.file)?;
                    gone.extend(found.claim);
                }
            }
            Ok(gone)
        })
    }

    /// Every claim file, each with its staleness; temp files left by dead writers are swept.
    pub fn list(&self, now: SystemTime) -> Result<Vec<Found>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("listing", &self.dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let path = entry.path();
            if name.starts_with(".tmp-") {
                let old = entry
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|m| now.duration_since(m).ok())
                    .is_some_and(|age| age > TEMP_MAX_AGE);
                if old {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            if name.ends_with(".lock") && !name.starts_with('.') {
                out.push(self.read(&path, now));
            }
        }
        out.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(out)
    }

    /// Reads one claim file; never follows a link.
    #[must_use]
    pub fn read(&self, file: &Path, now: SystemTime) -> Found {
        let read = || -> io::Result<(Claim, SystemTime)> {
            let f = open_own(file, OpenOptions::new().read(true))?;
            let modified = f.metadata()?.modified()?;
            let mut bytes = Vec::new();
            f.take(MAX_CLAIM_BYTES).read_to_end(&mut bytes)?;
            let claim = serde_json::from_slice(&bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            Ok((claim, modified))
        };
        match read() {
            Ok((claim, modified)) => {
                let stale = self.stale(&claim, modified, now);
                Found {
                    claim: Some(claim),
                    file: file.to_path_buf(),
                    stale,
                }
            }
            Err(e) => Found {
                claim: None,
                file: file.to_path_buf(),
                stale: Some(format!("it is not a readable claim ({e})")),
            },
        }
    }

    /// Why `claim` (last refreshed at `modified`) is stale, or `None` while its holder may be alive.
    fn stale(&self, claim: &Claim, modified: SystemTime, now: SystemTime) -> Option<String> {
        if let Some(pid) = claim.client_pid
            && let Some(alive) = process_alive(pid, claim.client_start)
            && !alive
        {
            return Some(format!("its session's client (pid {pid}) has ended"));
        }
        let idle = now.duration_since(modified).unwrap_or_default();
        (idle > self.stale_after).then(|| {
            format!(
                "its holder has not written the file for {} minutes",
                idle.as_secs() / 60
            )
        })
    }

    /// Creates the folder (and its `.gitignore`) when missing; refuses a folder that is a link or lies
    /// behind one.
    fn ensure_dir(&self) -> Result<()> {
        check_real_dirs(&self.project, &self.dir)
            .map_err(|e| Error::io("checking", &self.dir, e))?;
        if !self.dir.is_dir() {
            std::fs::create_dir_all(&self.dir).map_err(|e| Error::io("creating", &self.dir, e))?;
            check_real_dirs(&self.project, &self.dir)
                .map_err(|e| Error::io("checking", &self.dir, e))?;
            let ignore = self.dir.join(".gitignore");
            if let Ok(mut f) = open_own(&ignore, OpenOptions::new().write(true).create_new(true)) {
                let _ = f.write_all(b"# portcullis file claims: never committed\n*\n");
            }
        }
        Ok(())
    }

    /// Makes `claim` whole in a temp file and links it to `file`; `false` when `file` exists.
    fn link_new(&self, file: &Path, claim: &Claim) -> Result<bool> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let tmp = self
            .dir
            .join(format!(".tmp-{}-{nanos}", std::process::id()));
        let write = || -> io::Result<()> {
            let mut f = open_own(&tmp, OpenOptions::new().write(true).create_new(true))?;
            let bytes = serde_json::to_vec(claim)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            f.write_all(&bytes)
        };
        let made = write().and_then(|()| std::fs::hard_link(&tmp, file));
        let _ = std::fs::remove_file(&tmp);
        match made {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(Error::io("claiming", file, e)),
        }
    }
}

/// Refreshes a claim's mtime: its holder is still writing. Best effort: a failure only ages the claim.
fn touch(file: &Path) {
    if let Ok(f) = open_own(file, OpenOptions::new().write(true)) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Removes a claim file (a link in its place is removed itself, never followed).
fn remove(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("releasing claim", file, e)),
    }
}

/// Whether process `pid` (started at `start`, when known) still runs: `None` where the system cannot
/// tell (no `/proc`).
#[must_use]
pub fn process_alive(pid: u32, start: Option<u64>) -> Option<bool> {
    if !Path::new("/proc/self/stat").exists() {
        return None;
    }
    match (process_start(pid), start) {
        (None, _) => Some(false),
        (Some(now), Some(then)) => Some(now == then),
        (Some(_), None) => Some(true),
    }
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`), or `None` when it does not run.
#[must_use]
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(path: &str, agent: &str) -> Claim {
        Claim {
            path: path.into(),
            session: "s1".into(),
            agent: agent.into(),
            agent_type: None,
            since: Utc::now(),
            client_pid: None,
            client_start: None,
        }
    }

    fn setup() -> (tempfile::TempDir, Claims) {
        let t = tempfile::tempdir().unwrap();
        let c = Claims::new(t.path(), Duration::from_secs(3600));
        (t, c)
    }

    #[test]
    fn first_writer_wins_and_the_holder_writes_on() {
        let (_t, c) = setup();
        let d = Deadline::after(Duration::from_secs(5));
        let now = SystemTime::now();
        assert_eq!(
            c.acquire(&claim("a/x.rs", "a1"), now, &d).unwrap(),
            Acquired::New
        );
        assert_eq!(
            c.acquire(&claim("a/x.rs", "a1"), now, &d).unwrap(),
            Acquired::Own
        );
        assert!(matches!(
            c.acquire(&claim("a/x.rs", "a2"), now, &d).unwrap(),
            Acquired::Refused(h) if h.agent == "a1"
        ));
        assert_eq!(
            c.acquire(&claim("a/y.rs", "a2"), now, &d).unwrap(),
            Acquired::New
        );
        let gone = c.release(|k| k.agent == "a1", false, now, &d).unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!(
            c.acquire(&claim("a/x.rs", "a2"), now, &d).unwrap(),
            Acquired::New
        );
        assert!(
            std::fs::read_to_string(c.dir().join(".gitignore"))
                .unwrap()
                .contains('*')
        );
    }

    #[test]
    fn a_subagent_takes_over_its_own_main_threads_claim_but_not_the_reverse() {
        let (_t, c) = setup();
        let d = Deadline::after(Duration::from_secs(5));
        let now = SystemTime::now();
        c.acquire(&claim("x", "main"), now, &d).unwrap();
        assert!(matches!(
            c.acquire(&claim("x", "a1"), now, &d).unwrap(),
            Acquired::TakenOver { .. }
        ));
        assert!(matches!(
            c.acquire(&claim("x", "main"), now, &d).unwrap(),
            Acquired::Refused(_)
        ));
        let mut other = claim("x", "a2");
        other.session = "s2".into();
        let mut main2 = claim("y", "main");
        main2.session = "s2".into();
        c.acquire(&main2, now, &d).unwrap();
        assert!(
            matches!(
                c.acquire(&claim("y", "a1"), now, &d).unwrap(),
                Acquired::Refused(_)
            ),
            "another session's main thread is not ours to take from"
        );
        assert!(matches!(
            c.acquire(&other, now, &d).unwrap(),
            Acquired::Refused(_)
        ));
    }

    #[test]
    fn stale_claims_are_taken_over() {
        let (_t, c) = setup();
        let d = Deadline::after(Duration::from_secs(5));
        let now = SystemTime::now();
        c.acquire(&claim("x", "a1"), now, &d).unwrap();
        let later = now + Duration::from_secs(2 * 3600);
        assert!(matches!(
            c.acquire(&claim("x", "a2"), later, &d).unwrap(),
            Acquired::TakenOver { why, .. } if why.contains("has not written the file for")
        ));
        // A client that has ended: a pid that cannot run.
        let mut dead = claim("y", "a3");
        dead.client_pid = Some(u32::MAX - 1);
        c.acquire(&dead, now, &d).unwrap();
        let took = c.acquire(&claim("y", "a4"), now, &d).unwrap();
        if Path::new("/proc/self/stat").exists() {
            assert!(matches!(took, Acquired::TakenOver { why, .. } if why.contains("has ended")));
        }
    }

    #[test]
    fn junk_in_a_claims_place_is_stale_and_never_followed() {
        let (t, c) = setup();
        let d = Deadline::after(Duration::from_secs(5));
        let now = SystemTime::now();
        c.ensure_dir().unwrap();
        let outside = t.path().join("outside.txt");
        std::fs::write(&outside, "keep").unwrap();
        std::os::unix::fs::symlink(&outside, c.file_for("x")).unwrap();
        assert!(matches!(
            c.acquire(&claim("x", "a1"), now, &d).unwrap(),
            Acquired::New
        ));
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        std::fs::write(c.file_for("y"), "not json").unwrap();
        assert_eq!(
            c.acquire(&claim("y", "a1"), now, &d).unwrap(),
            Acquired::New
        );
    }

    #[test]
    fn a_linked_locks_folder_is_refused() {
        let (t, c) = setup();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join(".claude")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), c.dir()).unwrap();
        let d = Deadline::after(Duration::from_secs(5));
        assert!(c.acquire(&claim("x", "a1"), SystemTime::now(), &d).is_err());
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        let (_t, c) = setup();
        let a = c.file_for("../a b/ü.rs");
        let b = c.file_for("../a_b/_.rs");
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(
            name.bytes().all(|b| b.is_ascii_graphic()) && !name.starts_with('.'),
            "{name}"
        );
        assert!(c.file_for(&"x/".repeat(500)).file_name().unwrap().len() < 140);
    }

    #[test]
    fn this_process_is_alive_and_its_start_is_read() {
        if Path::new("/proc/self/stat").exists() {
            let me = std::process::id();
            let start = process_start(me);
            assert!(start.is_some());
            assert_eq!(process_alive(me, start), Some(true));
            assert_eq!(process_alive(me, start.map(|s| s + 1)), Some(false));
        }
    }
}

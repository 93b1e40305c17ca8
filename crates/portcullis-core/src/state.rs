//! Per-project and per-session state files.
//!
//! Layout: `<project>/.claude/portcullis/` (or `$PORTCULLIS_STATE_DIR`) holds `log.jsonl` and
//! `sessions/<session_id>/<name>.json`. The folder carries its own `.gitignore` of `*`, so it never shows in
//! `git status`.
//!
//! Invariants:
//! - A write is atomic: temp file in the same folder, then `rename`. Readers see the old or the new
//!   version, never a torn one, even if the writer is killed (`kill -9` included: the page cache
//!   outlives the process). No `fsync`: it guards only against a power loss, cost about 0.8 ms of a
//!   2 ms hook (strace of feedback-loop's first edit), and state is per session, which a power loss
//!   ends anyway; a file that comes back empty or torn after one is set aside like any corrupt file.
//! - An update (read, change, write) holds an exclusive `fd-lock` on a sidecar `<name>.lock` (never the data
//!   file, whose inode the rename replaces) and waits for it at most [`budget::LOCK_WAIT`].
//! - A file that does not parse, or carries another `schema_version`, is moved aside to
//!   `<name>.corrupt-<millis>` with a warning and read as empty: bad state never blocks a user forever.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::budget;
use crate::deadline::Deadline;
use crate::env::Env;
use crate::env_vars;
use crate::error::{Error, Result};

/// A type stored in one state file.
pub trait StateFile: Serialize + DeserializeOwned + Default {
    /// File name without extension, e.g. `"attempts"`.
    const NAME: &'static str;
    /// Bumped when the layout changes; a file of another version is set aside and read as empty.
    const SCHEMA_VERSION: u32;
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    schema_version: u32,
    state: T,
}

/// A state folder: the project's, or one session's below it.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
    /// Set when the folder the state would live in is not known to be a project: nothing is created.
    not_a_project: Option<PathBuf>,
}

/// What [`StateDir::load`] found besides the value.
#[derive(Debug, Default)]
pub struct LoadNote {
    /// Set when a corrupt file was moved aside; the path it was moved to.
    pub moved_aside: Option<PathBuf>,
}

impl StateDir {
    /// The project's state folder: `$PORTCULLIS_STATE_DIR`, else `<project>/.claude/portcullis`.
    #[must_use]
    pub fn for_project(env: &Env, project: &Path) -> Self {
        let root = env
            .var(env_vars::PORTCULLIS_STATE_DIR)
            .map_or_else(|| project.join(".claude").join("portcullis"), PathBuf::from);
        Self {
            root,
            not_a_project: None,
        }
    }

    /// The same folder, refusing to create anything: `project` is not known to be a project (an event
    /// with no `cwd`, or one that is gone). Reading still works; an update fails with an error naming it.
    #[must_use]
    pub fn not_a_project(mut self, project: &Path) -> Self {
        self.not_a_project = Some(project.to_path_buf());
        self
    }

    /// A state folder at an explicit path.
    #[must_use]
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            not_a_project: None,
        }
    }

    /// The folder's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The decision log's path.
    #[must_use]
    pub fn log_path(&self) -> PathBuf {
        self.root.join("log.jsonl")
    }

    /// The folder of one session. The id must be a safe file name.
    pub fn session(&self, session_id: &str) -> Result<Self> {
        check_id(session_id)?;
        Ok(Self {
            root: self.root.join("sessions").join(session_id),
            not_a_project: self.not_a_project.clone(),
        })
    }

    /// `Ok` unless the folder is missing and may not be made, its project not being known to be one
    /// ([`StateDir::not_a_project`]).
    pub fn may_create(&self) -> Result<()> {
        match &self.not_a_project {
            Some(project) if !self.root.is_dir() => Err(Error::Other(format!(
                "`{}` is not a project (the event names no existing folder, and it has no .git or \
                 .claude/): no state is kept there",
                project.display()
            ))),
            _ => Ok(()),
        }
    }

    /// Creates the folder (and the state root's `.gitignore`) if needed.
    pub fn ensure(&self) -> Result<()> {
        self.may_create()?;
        // The .gitignore goes into the top state folder; sessions/<id> lives below it.
        let top = self
            .root
            .ancestors()
            .find(|p| p.file_name().is_some_and(|n| n == "sessions"))
            .and_then(Path::parent)
            .unwrap_or(&self.root);
        // A symlinked state folder would make every write land outside the project.
        crate::files::check_real_dirs(top, &self.root)
            .map_err(|e| Error::io("checking state folder", &self.root, e))?;
        fs::create_dir_all(&self.root)
            .map_err(|e| Error::io("creating state folder", &self.root, e))?;
        let ignore = top.join(".gitignore");
        if !ignore.exists() {
            write_atomic(&ignore, b"*\n")?;
        }
        Ok(())
    }

    fn file(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.json"))
    }

    /// Reads a state file without locking (renames make every read see a whole version). Missing means
    /// default; corrupt is moved aside and means default.
    pub fn load<T: StateFile>(&self) -> Result<(T, LoadNote)> {
        let path = self.file(T::NAME);
        let bytes = match read_capped(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok((T::default(), LoadNote::default()));
            }
            // Corrupt, or not a regular file (a symlink or FIFO planted there): set aside, start empty.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
                ) =>
            {
                return Ok(set_aside::<T>(&path));
            }
            Err(e) => return Err(Error::io("reading state", &path, e)),
        };
        match serde_json::from_slice::<Envelope<T>>(&bytes) {
            Ok(env) if env.schema_version == T::SCHEMA_VERSION => {
                Ok((env.state, LoadNote::default()))
            }
            _ => Ok(set_aside::<T>(&path)),
        }
    }

    /// Locks, reads, lets `change` modify the state, and writes it back atomically. Returns what `change`
    /// returned. The lock wait ends at [`budget::LOCK_WAIT`] or the deadline, whichever comes first.
    pub fn update<T: StateFile, R>(
        &self,
        deadline: &Deadline,
        change: impl FnOnce(&mut T) -> R,
    ) -> Result<R> {
        self.ensure()?;
        let lock_path = self.root.join(format!("{}.lock", T::NAME));
        with_lock(&lock_path, deadline, || {
            let (mut state, _) = self.load::<T>()?;
            let out = change(&mut state);
            let bytes = serde_json::to_vec_pretty(&Envelope {
                schema_version: T::SCHEMA_VERSION,
                state: &state,
            })
            .map_err(|e| Error::Other(format!("encoding state: {e}")))?;
            write_file(&self.file(T::NAME), &bytes, false)?;
            Ok(out)
        })
    }

    /// Resets a state file to its default (under its lock).
    pub fn reset<T: StateFile>(&self, deadline: &Deadline) -> Result<()> {
        self.update::<T, _>(deadline, |s| *s = T::default())
    }
}

/// Moves a corrupt state file aside (with a warning) and returns the default state.
fn set_aside<T: StateFile>(path: &Path) -> (T, LoadNote) {
    let millis = chrono::Utc::now().timestamp_millis();
    let aside = path.with_extension(format!("corrupt-{millis}"));
    match fs::rename(path, &aside) {
        // Another process may have set it aside (or replaced it) first; either way it is gone now.
        Ok(()) | Err(_) => {}
    }
    crate::warnings::push(format!(
        "state file `{}` was unreadable; moved to `{}` and starting empty",
        path.display(),
        aside.display()
    ));
    (
        T::default(),
        LoadNote {
            moved_aside: Some(aside),
        },
    )
}

/// Runs `work` while holding an exclusive `fd-lock` on `lock_path` (created if missing). Waits with
/// `try_write` and a growing pause, never longer than [`budget::LOCK_WAIT`] or the deadline: a blocking
/// wait could hang on a stuck holder.
pub fn with_lock<R>(
    lock_path: &Path,
    deadline: &Deadline,
    work: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    let file = crate::files::open_own_or_replace(lock_path, &options, "lock file")
        .map_err(|e| Error::io("opening lock", lock_path, e))?;
    let mut lock = fd_lock::RwLock::new(file);
    let wait = Deadline::after(budget::LOCK_WAIT.min(deadline.remaining()));
    let mut pause = Duration::from_micros(200);
    let mut work = Some(work);
    loop {
        match lock.try_write() {
            Ok(_guard) => {
                // `work` is taken exactly once: this arm returns.
                return work
                    .take()
                    .map_or_else(|| Err(Error::Other("lock work ran twice".into())), |w| w());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(Error::io("locking", lock_path, e)),
        }
        if wait.expired() {
            return Err(Error::LockTimeout(lock_path.to_path_buf()));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn read_capped(path: &Path) -> io::Result<Vec<u8>> {
    let file = crate::files::open_own(path, OpenOptions::new().read(true))?;
    // Most state files are a few KiB: one read instead of a doubling series from 32 bytes.
    let mut bytes = Vec::with_capacity(16 << 10);
    file.take(budget::MAX_STATE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > budget::MAX_STATE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "state file over the size cap",
        ));
    }
    Ok(bytes)
}

/// FNV-1a, 64 bits: a stable key for state files (the same across runs, builds and Rust versions, which
/// std's `DefaultHasher` does not promise).
#[must_use]
pub fn stable_hash(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes `bytes` to `path` atomically and durably: a temp file in the same folder, `sync_all`, `rename`.
/// For the user's own files (settings, blessed fixtures); state is written without the `sync_all`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes, true)
}

/// [`write_atomic`], with the `sync_all` only when `durable`.
fn write_file(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let nanos = chrono::Utc::now().timestamp_subsec_nanos();
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        // A fresh name, never an existing file or a link someone placed there.
        let mut f = crate::files::open_own(&tmp, OpenOptions::new().write(true).create_new(true))?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("writing state", path, e)
    })
}

/// Rejects ids that are not safe as one path component: empty, `.`/`..`, or holding anything but ASCII
/// letters, digits, `-`, `_` and `.`.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::UnsafeId(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Counter {
        n: u64,
        files: Vec<String>,
    }
    impl StateFile for Counter {
        const NAME: &'static str = "counter";
        const SCHEMA_VERSION: u32 = 1;
    }

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(10))
    }

    #[test]
    fn update_round_trips_and_ignores_itself_in_git() {
        let t = tempfile::tempdir().unwrap();
        let top = StateDir::at(t.path().join("state"));
        let s = top.session("abc-123").unwrap();
        s.update::<Counter, _>(&deadline(), |c| {
            c.n += 1;
            c.files.push("a".into());
        })
        .unwrap();
        let (c, note) = s.load::<Counter>().unwrap();
        assert_eq!(
            c,
            Counter {
                n: 1,
                files: vec!["a".into()]
            }
        );
        assert!(note.moved_aside.is_none());
        assert_eq!(
            fs::read_to_string(t.path().join("state/.gitignore")).unwrap(),
            "*\n"
        );
    }

    #[test]
    fn corrupt_and_empty_files_are_set_aside() {
        let t = tempfile::tempdir().unwrap();
        let s = StateDir::at(t.path());
        for junk in [
            &b"{not json"[..],
            b"",
            b"{\"schema_version\":99,\"state\":{\"n\":1,\"files\":[]}}",
        ] {
            fs::write(t.path().join("counter.json"), junk).unwrap();
            let (c, note) = s.load::<Counter>().unwrap();
            assert_eq!(c, Counter::default());
            let aside = note.moved_aside.unwrap();
            assert_eq!(fs::read(&aside).unwrap(), junk);
            fs::remove_file(aside).unwrap();
        }
    }

    #[test]
    fn stable_hash_is_fnv1a() {
        // Published FNV-1a 64 test vectors: state written by one build is read by the next.
        assert_eq!(stable_hash(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_hash(*b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn unsafe_ids_are_refused() {
        for bad in ["", ".", "..", "a/b", "../x", "a\0b", "é"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        check_id("c65a1492-9d4e-443a-afdb-2c4b4fb91b2d").unwrap();
    }

    #[test]
    fn parallel_updates_lose_nothing() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().to_path_buf();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let s = StateDir::at(root);
                    for j in 0..10 {
                        s.update::<Counter, _>(&deadline(), |c| {
                            c.n += 1;
                            c.files.push(format!("{i}-{j}"));
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        let (c, _) = StateDir::at(root).load::<Counter>().unwrap();
        assert_eq!(c.n, 160);
        assert_eq!(c.files.len(), 160);
    }

    proptest::proptest! {
        #[test]
        fn any_state_survives_a_round_trip(n in proptest::prelude::any::<u64>(), files in proptest::collection::vec(".*", 0..8)) {
            let t = tempfile::tempdir().unwrap();
            let s = StateDir::at(t.path());
            let want = Counter { n, files: files.clone() };
            s.update::<Counter, _>(&deadline(), |c| { c.n = n; c.files = files; }).unwrap();
            proptest::prop_assert_eq!(s.load::<Counter>().unwrap().0, want);
        }
    }
}

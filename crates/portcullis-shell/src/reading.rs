//! What a command does to files, as the walk and the fallback reader collect it.

use crate::programs;
use crate::walk::Base;

/// What a command does to files: the paths it writes and the paths it removes or resets, each joined to
/// the literal `cd` directory in effect.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Reading {
    pub(crate) writes: Vec<String>,
    pub(crate) removes: Vec<String>,
    /// Links the command makes, (link, what it points at), both joined: a write through the link is a
    /// write of its target.
    pub(crate) links: Vec<(String, String)>,
    /// The files redirected into a command's input (`< F`), joined.
    pub(crate) reads: Vec<String>,
}

impl Reading {
    /// Records a written path, and the target of a link it goes through.
    pub(crate) fn write(&mut self, path: String) {
        let through = self.through_links(&path);
        self.writes.push(path);
        self.writes.extend(through);
    }

    pub(crate) fn remove(&mut self, path: String) {
        let through = self.through_links(&path);
        self.removes.push(path);
        self.removes.extend(through);
    }

    /// Records what one simple command does, run from `here`; returns the shell text it runs itself
    /// (`sh -c TEXT`), for the caller to read.
    pub(crate) fn apply(&mut self, effects: programs::Effects, here: &Base) -> Vec<String> {
        for path in effects.writes {
            if let Some(p) = here.join(&path) {
                self.write(p);
            }
        }
        for path in effects.removes {
            if let Some(p) = here.join(&path) {
                self.remove(p);
            }
        }
        // Recorded last: making the link is not a write through it; later writes are.
        for (link, target, symbolic) in effects.links {
            let Some(link) = here.join(&link) else {
                continue;
            };
            // A symbolic link's relative target is read from the link's own folder; a hard link's from
            // where `ln` runs.
            let relative = !target.starts_with('/') && target != "~" && !target.starts_with("~/");
            let target = if symbolic && relative {
                match link.rsplit_once('/') {
                    Some((dir, _)) => Some(format!("{dir}/{target}")),
                    None => Some(target),
                }
            } else {
                here.join(&target)
            };
            if let Some(target) = target {
                self.links.push((link, target));
            }
        }
        effects.scripts
    }

    /// Records the files a Codex patch writes (`*** Add File: P`, …), its paths read from `here`.
    pub(crate) fn patch(&mut self, text: &str, here: &Base) {
        for file in portcullis_core::patch::parse(text) {
            for path in file.written() {
                if let Some(p) = here.join(&path.to_string_lossy()) {
                    self.write(p);
                }
            }
        }
    }

    /// `path` with a link made earlier in the command at its start replaced by what the link points at.
    fn through_links(&self, path: &str) -> Vec<String> {
        self.links
            .iter()
            .rev()
            .filter_map(|(link, target)| {
                let rest = path.strip_prefix(link.as_str())?;
                (rest.is_empty() || rest.starts_with('/')).then(|| format!("{target}{rest}"))
            })
            .take(1)
            .collect()
    }
}

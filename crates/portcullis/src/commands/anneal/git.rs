//! The commit of a patch, made with git2 from HEAD: a new tree with the patched files, a commit on it,
//! and a new branch pointing at it. The index, the working tree and the current branch are never touched.
//! Also: HEAD's tree written out to a folder, for replaying a session on the project as committed.

use std::path::{Component, Path};

use git2::{ObjectType, Oid, Repository, Signature, Tree};

/// The branch name prefix.
pub(crate) const BRANCH_PREFIX: &str = "portcullis/anneal-";

/// The repository of `project`, or why there is none.
pub(crate) fn open(project: &Path) -> Result<Repository, String> {
    Repository::discover(project).map_err(|e| {
        format!(
            "no git repository at {}: {}",
            project.display(),
            e.message()
        )
    })
}

/// Where `project` is inside the repository's work tree.
fn prefix(repo: &Repository, project: &Path) -> Result<std::path::PathBuf, String> {
    let root = repo
        .workdir()
        .and_then(|w| w.canonicalize().ok())
        .ok_or("a bare repository has no project to patch")?;
    let project = project.canonicalize().map_err(|e| e.to_string())?;
    project
        .strip_prefix(&root)
        .map(Path::to_path_buf)
        .map_err(|_| "the project is not inside its repository".to_owned())
}

/// The text of `rel` (project-relative) in HEAD, or `None` when HEAD does not hold it.
pub(crate) fn head_text(repo: &Repository, project: &Path, rel: &str) -> Option<String> {
    let tree = repo.head().ok()?.peel_to_tree().ok()?;
    let entry = tree.get_path(&prefix(repo, project).ok()?.join(rel)).ok()?;
    let blob = entry.to_object(repo).ok()?.into_blob().ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// `tree` with the file at `parts` set to `blob` (folders made as needed).
fn with_file(
    repo: &Repository,
    tree: Option<&Tree<'_>>,
    parts: &[String],
    blob: Oid,
) -> Result<Oid, git2::Error> {
    let mut builder = repo.treebuilder(tree)?;
    match parts {
        [] => return Err(git2::Error::from_str("an empty path")),
        [name] => {
            builder.insert(name, blob, 0o100_644)?;
        }
        [folder, rest @ ..] => {
            let sub = match tree.and_then(|t| t.get_name(folder)) {
                Some(e) if e.kind() == Some(ObjectType::Tree) => Some(repo.find_tree(e.id())?),
                _ => None,
            };
            let id = with_file(repo, sub.as_ref(), rest, blob)?;
            builder.insert(folder, id, 0o040_000)?;
        }
    }
    builder.write()
}

/// The project-relative path as tree entry names; `None` for a path that leaves the project.
fn parts(rel: &str) -> Option<Vec<String>> {
    Path::new(rel)
        .components()
        .map(|c| match c {
            Component::Normal(n) => n.to_str().map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// The first free branch name `portcullis/anneal-<date>-<n>`.
fn branch_name(repo: &Repository, date: &str) -> String {
    (1..10_000)
        .map(|n| format!("{BRANCH_PREFIX}{date}-{n}"))
        .find(|name| repo.find_branch(name, git2::BranchType::Local).is_err())
        .unwrap_or_else(|| format!("{BRANCH_PREFIX}{date}"))
}

/// Commits `files` (project-relative path, new text) on top of HEAD, on a new branch; returns the branch
/// and the commit id. `project` is where the paths are relative to (it may be below the repository's
/// root).
pub(crate) fn commit(
    repo: &Repository,
    project: &Path,
    files: &[(String, String)],
    message: &str,
    date: &str,
) -> Result<(String, String), String> {
    let err = |e: git2::Error| e.message().to_owned();
    let head = repo.head().map_err(err)?.peel_to_commit().map_err(err)?;
    let mut tree_id = head.tree_id();
    let prefix = prefix(repo, project)?;
    for (rel, text) in files {
        let full = prefix.join(rel);
        let parts =
            parts(&full.to_string_lossy()).ok_or_else(|| format!("`{rel}` leaves the project"))?;
        let blob = repo.blob(text.as_bytes()).map_err(err)?;
        let tree = repo.find_tree(tree_id).map_err(err)?;
        tree_id = with_file(repo, Some(&tree), &parts, blob).map_err(err)?;
    }
    let tree = repo.find_tree(tree_id).map_err(err)?;
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("portcullis", "portcullis@localhost"))
        .map_err(err)?;
    let id = repo
        .commit(None, &sig, &sig, message, &tree, &[&head])
        .map_err(err)?;
    let commit = repo.find_commit(id).map_err(err)?;
    let name = branch_name(repo, date);
    repo.branch(&name, &commit, false).map_err(err)?;
    Ok((name, id.to_string()))
}

/// Writes HEAD's tree (the part under `project`) into `dest`, at most `max_files` files; `false` when it
/// holds more.
pub(crate) fn export_head(
    repo: &Repository,
    project: &Path,
    dest: &Path,
    max_files: usize,
) -> Result<bool, String> {
    let err = |e: git2::Error| e.message().to_owned();
    let tree = repo.head().map_err(err)?.peel_to_tree().map_err(err)?;
    let prefix = prefix(repo, project)?;
    let mut count = 0usize;
    let mut failed: Option<String> = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let Some(name) = entry.name() else {
            return git2::TreeWalkResult::Skip;
        };
        let full = Path::new(dir).join(name);
        let Ok(rel) = full.strip_prefix(&prefix) else {
            return git2::TreeWalkResult::Ok;
        };
        count += 1;
        if count > max_files {
            return git2::TreeWalkResult::Abort;
        }
        let Some(safe) = parts(&rel.to_string_lossy()) else {
            return git2::TreeWalkResult::Skip;
        };
        let target = safe.iter().fold(dest.to_path_buf(), |p, s| p.join(s));
        let written = entry
            .to_object(repo)
            .ok()
            .and_then(|o| o.into_blob().ok())
            .map(|b| {
                target
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&target, b.content()))
            });
        if let Some(Err(e)) = written {
            failed = Some(format!("{}: {e}", target.display()));
            return git2::TreeWalkResult::Abort;
        }
        git2::TreeWalkResult::Ok
    })
    .ok();
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(count <= max_files)
}

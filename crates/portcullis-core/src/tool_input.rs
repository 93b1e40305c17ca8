//! The typed input of the tool calls portcullis reads (PROTOCOL.md §5; PROTOCOL-CODEX.md §4), re-exported
//! by [`crate::event`].

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::patch::{self, PatchedFile};

/// Write: create or replace a file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct WriteInput {
    pub file_path: Option<String>,
    pub content: Option<String>,
}

/// Edit: replace a string in a file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct EditInput {
    pub file_path: Option<String>,
    pub old_string: Option<String>,
    pub new_string: Option<String>,
    pub replace_all: Option<bool>,
}

/// One edit of the legacy MultiEdit tool.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct OneEdit {
    pub old_string: Option<String>,
    pub new_string: Option<String>,
    pub replace_all: Option<bool>,
}

/// MultiEdit (older clients): several edits of one file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct MultiEditInput {
    pub file_path: Option<String>,
    pub edits: Vec<OneEdit>,
}

/// NotebookEdit: change a Jupyter cell.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct NotebookEditInput {
    pub notebook_path: Option<String>,
    pub cell_id: Option<String>,
    pub new_source: Option<String>,
    pub cell_type: Option<String>,
    pub edit_mode: Option<String>,
}

/// Bash (and PowerShell): run a command.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct BashInput {
    pub command: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<u64>,
    pub run_in_background: Option<bool>,
}

/// Agent (legacy `Task`; Codex's `spawn_agent`, whose `message`, `agent_type` and `task_name` are read as
/// `prompt`, `subagent_type` and `name`): spawn a subagent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct AgentInput {
    pub description: Option<String>,
    #[serde(alias = "message")]
    pub prompt: Option<String>,
    #[serde(alias = "agent_type")]
    pub subagent_type: Option<String>,
    pub model: Option<String>,
    pub run_in_background: Option<bool>,
    #[serde(alias = "task_name")]
    pub name: Option<String>,
}

/// Codex's `apply_patch`: the patch text (`{"command": "*** Begin Patch…"}`) read as the files it writes.
#[derive(Debug, Clone, Default)]
pub struct PatchInput {
    /// Its files, in order.
    pub files: Vec<PatchedFile>,
}

/// The typed input of a tool call.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum ToolInput {
    Write(WriteInput),
    Edit(EditInput),
    MultiEdit(MultiEditInput),
    NotebookEdit(NotebookEditInput),
    Bash(BashInput),
    Agent(AgentInput),
    Patch(PatchInput),
    /// A tool portcullis does not inspect.
    Other,
}

/// The tools that edit files: Claude Code's, as hooks.json matchers name them, and Codex's `apply_patch`.
pub const FILE_EDIT_TOOLS: &[&str] = &["Write", "Edit", "MultiEdit", "NotebookEdit", "apply_patch"];

impl ToolInput {
    /// Parses `json` as the input of `tool` (a canonical name).
    pub fn parse(tool: &str, json: &str) -> Result<Self> {
        fn typed<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
            serde_json::from_str(json).map_err(|e| Error::BadEvent(format!("tool_input: {e}")))
        }
        Ok(match tool {
            "Write" => Self::Write(typed(json)?),
            "Edit" => Self::Edit(typed(json)?),
            "MultiEdit" => Self::MultiEdit(typed(json)?),
            "NotebookEdit" => Self::NotebookEdit(typed(json)?),
            "Bash" | "PowerShell" => Self::Bash(typed(json)?),
            "Agent" => Self::Agent(typed(json)?),
            "apply_patch" => {
                let bash: BashInput = typed(json)?;
                Self::Patch(PatchInput {
                    files: patch::parse(bash.command.as_deref().unwrap_or_default()),
                })
            }
            _ => Self::Other,
        })
    }

    /// The files this call writes to (empty for non-editing tools and for a missing path): a patch's
    /// files as written in it, also when a shell command applies the patch itself (Codex's
    /// `apply_patch <<EOF`).
    #[must_use]
    pub fn touched_paths(&self) -> Vec<PathBuf> {
        let patched = |files: &[PatchedFile]| {
            files
                .iter()
                .flat_map(PatchedFile::written)
                .cloned()
                .collect()
        };
        let path = match self {
            Self::Patch(p) => return patched(&p.files),
            Self::Bash(b) => {
                let command = b.command.as_deref().unwrap_or_default();
                return if patch::shell_applies_patch(command) {
                    patched(&patch::parse(command))
                } else {
                    Vec::new()
                };
            }
            Self::Write(w) => w.file_path.as_deref(),
            Self::Edit(e) => e.file_path.as_deref(),
            Self::MultiEdit(m) => m.file_path.as_deref(),
            Self::NotebookEdit(n) => n.notebook_path.as_deref(),
            _ => None,
        };
        path.filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .into_iter()
            .collect()
    }

    /// True for Write/Edit/MultiEdit/NotebookEdit and Codex's `apply_patch`.
    #[must_use]
    pub fn is_file_edit(&self) -> bool {
        matches!(
            self,
            Self::Write(_)
                | Self::Edit(_)
                | Self::MultiEdit(_)
                | Self::NotebookEdit(_)
                | Self::Patch(_)
        )
    }
}

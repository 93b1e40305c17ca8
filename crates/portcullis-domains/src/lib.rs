//! Which domain a file belongs to, and which agents a project defines. Shared by agent-first and
//! feedback-loop so both hooks always agree.
//!
//! - [`DomainsConfig`]: the `domains` config section.
//! - [`DomainMap`]: domain name → globs, first match wins in table order. Globs are relative to the project
//!   root and `*` stays inside one folder (use `**/` to cross folders).
//! - [`resolve`]: turns a tool's `file_path` into a project-relative path, resolving `.`/`..` and symlinks;
//!   a path that ends up outside the project is [`Resolved::Outside`], never matched as if inside.
//! - [`AgentCatalog`]: agent definitions (`name:` in YAML frontmatter) from the project's `.claude/agents/`,
//!   the user's `~/.claude/agents/`, and enabled plugins' `agents/`.

mod agents;
mod builtin;
mod config;
mod delegation;
mod domains;
mod fast;
mod manifest;
mod paths;
pub mod verdict;

pub use agents::{AgentCatalog, AgentDef, AgentSource};
pub use config::{DomainTable, DomainsConfig, FallbackDomain};
pub use delegation::{AgentFirstConfig, developer_for};
pub use domains::{
    BY_MANIFEST, DEFAULT_DOMAINS, DomainMap, DomainMatch, MatchKind, SERVER_PACKAGES,
    SOURCE_EXTENSIONS, UI_PACKAGES, glob, is_source,
};
pub use fast::GlobList;
pub use paths::{Resolved, expand_home, real_path, resolve};

//! The rules, their default severities, and what a finding says.

use std::path::PathBuf;

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; `portcullis audit` still exits 0.
    Warning,
    /// The definition is broken or breaks the workflow's rules; `portcullis audit` exits 1.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

macro_rules! rules {
    ($($variant:ident $id:literal $severity:ident: $doc:literal;)*) => {
        /// A check of the audit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(#[doc = $doc] $variant,)*
        }

        impl Rule {
            /// Every rule, in the README's order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The id used in output and config.
            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The severity when config does not say.
            #[must_use]
            pub fn default_severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// What the rule checks, one line (the README's rule table).
            #[must_use]
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $doc,)* }
            }

            /// The rule with this id.
            #[must_use]
            pub fn from_id(id: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.id() == id)
            }
        }
    };
}

rules! {
    FrontmatterMissing "frontmatter-missing" Error:
        "the file starts with a `---` frontmatter block that is closed";
    FrontmatterSyntax "frontmatter-syntax" Error:
        "the frontmatter is YAML keys that Claude Code can read, even with its lenient fallback";
    FrontmatterLenient "frontmatter-lenient" Warning:
        "the frontmatter is valid YAML, not only readable once Claude Code quotes its values";
    FieldMissing "field-missing" Error:
        "`name` and `description` are there and are text";
    NameFormat "name-format" Warning:
        "the name is lowercase letters, digits and hyphens, at most 64 characters";
    NameMismatch "name-mismatch" Warning:
        "an agent's name is its file name; a skill's name is its folder's name";
    NameDuplicate "name-duplicate" Error:
        "no two agents (or two skills) of one source share a name";
    DescriptionTrigger "description-trigger" Warning:
        "the description says when to use it (`Use when ...`), so it is discovered";
    AgentLength "agent-length" Warning:
        "an agent is at most `agent_max_lines` lines (`lead_max_lines` for leads and architects)";
    SkillLength "skill-length" Warning:
        "a SKILL.md is at most `skill_max_lines` lines";
    DelegatesAndEdits "delegates-and-edits" Error:
        "no agent's tools give it both delegation (Agent/Task) and editing (Edit/Write/NotebookEdit)";
    ToolUnknown "tool-unknown" Error:
        "every tool an agent names exists in Claude Code (or is an MCP tool or in `extra_tools`)";
    ToolRetired "tool-retired" Warning:
        "no agent names a tool Claude Code no longer has (MultiEdit, LS, ...)";
    LibraryPath "library-path" Warning:
        "an agent does not hard-code library skill paths; it loads them through a gateway skill";
    ReferenceMissing "reference-missing" Error:
        "every file a skill tells the agent to read (`Read(\"...\")`, links, `.claude/...` paths) exists";
    GatewayRoute "gateway-route" Error:
        "every route of a gateway skill points at an existing library skill";
}

/// One problem in one definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file, absolute.
    pub file: PathBuf,
    /// The file as shown: project-relative when inside the project.
    pub shown: String,
    /// The 1-based line.
    pub line: usize,
    /// The rule.
    pub rule: Rule,
    /// Its severity in force.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Finding {
    /// `file:line: severity[rule] message`, as `portcullis audit` prints it and the hook tells it.
    #[must_use]
    pub fn headline(&self) -> String {
        format!(
            "{}:{}: {}[{}] {}",
            self.shown,
            self.line,
            self.severity.as_str(),
            self.rule.id(),
            self.message
        )
    }
}

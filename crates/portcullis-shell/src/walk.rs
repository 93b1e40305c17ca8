//! Walking the parsed command: every simple command that runs, with the literal directory a `cd` left it
//! in, its words made literal where they can be.

use brush_parser::ast::{
    AndOr, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Pipeline, SeparatorOperator, SimpleCommand,
};
use brush_parser::word::WordPiece;
use brush_parser::{Parser, ParserOptions};

use crate::programs;

/// How deep nested parses are followed (command substitutions `$( $( … ) )`, texts read as arithmetic);
/// the nesting guard in `lib.rs` keeps real commands far below it.
const MAX_DEPTH: usize = 64;

/// Where relative paths of the commands walked so far are taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Base {
    /// The directory the command started in.
    Start,
    /// A literal directory (relative to the start, or absolute).
    Dir(String),
    /// A `cd` to somewhere not literal: relative paths cannot be known.
    Unknown,
}

impl Base {
    /// `path` as seen from this base; `None` when it cannot be known.
    fn join(&self, path: &str) -> Option<String> {
        if path.starts_with('/') {
            return Some(path.to_owned());
        }
        match self {
            Self::Start => Some(path.to_owned()),
            Self::Dir(dir) => Some(format!("{}/{path}", dir.trim_end_matches('/'))),
            Self::Unknown => None,
        }
    }

    /// The base after `cd target` (`None` target: `cd` to somewhere not literal).
    fn cd(&self, target: Option<&str>) -> Self {
        match target {
            Some(t) if !t.is_empty() && t != "-" && !t.starts_with('~') => {
                self.join(t).map_or(Self::Unknown, Self::Dir)
            }
            _ => Self::Unknown,
        }
    }
}

/// Every path `command` writes, joined to the literal `cd` directory in effect; `None` when the parser
/// panicked on it.
pub(crate) fn writes(command: &str) -> Option<Vec<String>> {
    guarded(|| {
        let mut out = Vec::new();
        parse_and_walk(command, 0, &Base::Start, &mut out);
        out
    })
}

/// The simple commands of `command` that run, in order; `None` when the parser panicked on it, or could
/// not parse it.
pub(crate) fn runs(command: &str) -> Option<Vec<crate::Run>> {
    guarded(|| {
        let options = ParserOptions::default();
        let mut parser = Parser::new(std::io::BufReader::new(command.as_bytes()), &options);
        let program = parser.parse_program().ok()?;
        let mut out = Vec::new();
        let mut runs = Vec::new();
        let mut walker = Walker {
            out: &mut out,
            depth: 0,
            runs: Some(&mut runs),
            decides: false,
        };
        let count = program.complete_commands.len();
        for (i, complete) in program.complete_commands.iter().enumerate() {
            // Lines run one after another: only the last one's status is the command's.
            walker.decides = i + 1 == count;
            walker.list(complete, Base::Start);
        }
        Some(runs)
    })
    .flatten()
}

/// Runs `f`, catching a panic of the parser (release builds unwind for this) with the process's panic
/// hook swapped for a silent one meanwhile: the hooks' own hook would end the process with its failure
/// code.
fn guarded<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    static SWAP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = SWAP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
    result.ok()
}

fn parse_and_walk(command: &str, depth: usize, base: &Base, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let options = ParserOptions::default();
    let mut parser = Parser::new(std::io::BufReader::new(command.as_bytes()), &options);
    let Ok(program) = parser.parse_program() else {
        return;
    };
    let mut walker = Walker {
        out,
        depth,
        runs: None,
        decides: false,
    };
    for complete in &program.complete_commands {
        walker.list(complete, base.clone());
    }
}

struct Walker<'a> {
    out: &'a mut Vec<String>,
    depth: usize,
    /// The simple commands that run, when asked for.
    runs: Option<&'a mut Vec<crate::Run>>,
    /// Whether the command being walked succeeds whenever the whole command does (see [`crate::Run`]).
    decides: bool,
}

impl Walker<'_> {
    /// A list run in one shell: a `cd` in it moves the later commands. Returns the base it ends in.
    fn list(&mut self, list: &CompoundList, mut base: Base) -> Base {
        let outer = self.decides;
        for (i, item) in list.0.iter().enumerate() {
            // Only the last item's status is the list's, and a background item's is nobody's.
            let final_item = i + 1 == list.0.len() && matches!(item.1, SeparatorOperator::Sequence);
            let and_or = &item.0;
            let members: Vec<(&Pipeline, bool)> = std::iter::once((&and_or.first, true))
                .chain(and_or.additional.iter().map(|next| match next {
                    AndOr::And(p) => (p, true),
                    AndOr::Or(p) => (p, false),
                }))
                .collect();
            for (k, (pipeline, after_and)) in members.iter().enumerate() {
                // A member's success follows from the list's when it is reached by `&&` (or first) and only
                // `&&` follows it: `a && b` (both), `a || b` (neither), `a || b && c` (c).
                let rest_and = members[k + 1..].iter().all(|(_, and)| *and);
                self.decides = outer && final_item && *after_and && rest_and;
                base = self.pipeline(pipeline, base);
            }
        }
        self.decides = outer;
        base
    }

    /// A pipeline of more than one command runs each in a subshell: a `cd` there moves nothing after.
    fn pipeline(&mut self, pipeline: &Pipeline, base: Base) -> Base {
        let outer = self.decides && !pipeline.bang;
        if let [only] = pipeline.seq.as_slice() {
            self.decides = outer;
            let base = self.command(only, base);
            self.decides = outer;
            return base;
        }
        // Only the last command's status is the pipeline's (no `pipefail` is assumed).
        for (i, command) in pipeline.seq.iter().enumerate() {
            self.decides = outer && i + 1 == pipeline.seq.len();
            self.command(command, base.clone());
        }
        self.decides = outer;
        base
    }

    fn command(&mut self, command: &Command, base: Base) -> Base {
        match command {
            Command::Simple(simple) => self.simple(simple, base),
            Command::Compound(compound, redirects) => {
                for r in redirects.iter().flat_map(|l| &l.0) {
                    self.redirect(r, &base);
                }
                self.compound(compound, base)
            }
            Command::Function(f) => {
                // The body may run later, from wherever; its writes are read as from here.
                self.compound(&f.body.0, base.clone());
                base
            }
            Command::ExtendedTest(..) => base,
        }
    }

    fn compound(&mut self, compound: &CompoundCommand, base: Base) -> Base {
        // A group's status is its list's; inside loops and conditionals no command's is.
        let outer = self.decides;
        if !matches!(
            compound,
            CompoundCommand::BraceGroup(_) | CompoundCommand::Subshell(_)
        ) {
            self.decides = false;
        }
        let base = self.compound_inner(compound, base);
        self.decides = outer;
        base
    }

    fn compound_inner(&mut self, compound: &CompoundCommand, base: Base) -> Base {
        match compound {
            CompoundCommand::BraceGroup(g) => self.list(&g.list, base),
            CompoundCommand::Subshell(s) => {
                self.list(&s.list, base.clone());
                base
            }
            CompoundCommand::ForClause(f) => {
                self.list(&f.body.list, base.clone());
                base
            }
            CompoundCommand::ArithmeticForClause(f) => {
                self.list(&f.body.list, base.clone());
                base
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                self.list(&w.0, base.clone());
                self.list(&w.1.list, base.clone());
                base
            }
            CompoundCommand::IfClause(i) => {
                self.list(&i.condition, base.clone());
                self.list(&i.then, base.clone());
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c, base.clone());
                    }
                    self.list(&e.body, base.clone());
                }
                base
            }
            CompoundCommand::CaseClause(c) => {
                for item in &c.cases {
                    if let Some(list) = &item.cmd {
                        self.list(list, base.clone());
                    }
                }
                base
            }
            CompoundCommand::Coprocess(c) => {
                self.command(&c.body, base.clone());
                base
            }
            // The parser reads `( ( cmd ) )` (nested subshells to bash) as `(( … ))`: its text is read as
            // commands too. A real arithmetic `(( x > 5 ))` then seems to write `5`, which no domain claims.
            CompoundCommand::Arithmetic(a) => {
                parse_and_walk(&a.expr.value, self.depth + 1, &base, self.out);
                base
            }
        }
    }

    fn simple(&mut self, simple: &SimpleCommand, base: Base) -> Base {
        let items = simple
            .prefix
            .iter()
            .flat_map(|p| &p.0)
            .chain(simple.suffix.iter().flat_map(|s| &s.0));
        let mut words: Vec<Option<String>> = Vec::new();
        if let Some(w) = &simple.word_or_name {
            words.push(self.literal(&w.value));
        }
        for item in items {
            match item {
                CommandPrefixOrSuffixItem::IoRedirect(r) => self.redirect(r, &base),
                CommandPrefixOrSuffixItem::Word(w) => words.push(self.literal(&w.value)),
                CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                    // The value may run a command substitution.
                    let _ = self.literal(&w.value);
                }
                CommandPrefixOrSuffixItem::ProcessSubstitution(_, s) => {
                    // Its commands run beside this one; their status is nobody's.
                    let outer = std::mem::replace(&mut self.decides, false);
                    self.list(&s.list, base.clone());
                    self.decides = outer;
                }
            }
        }
        // A prefix holds only assignments and redirections: the words are the program's, then the
        // suffix's, in order.
        if let Some(runs) = self.runs.as_deref_mut()
            && !words.is_empty()
        {
            runs.push(crate::Run {
                words: words.clone(),
                decides: self.decides,
            });
        }
        let Some(Some(program)) = words.first() else {
            return base;
        };
        let name = program.rsplit('/').next().unwrap_or(program);
        if matches!(name, "cd" | "pushd") {
            let target = words.get(1..).and_then(|rest| {
                rest.iter()
                    .find(|w| w.as_deref().is_none_or(|w| !w.starts_with('-')))
            });
            return base.cd(target.and_then(Option::as_deref));
        }
        for path in programs::writes(&words) {
            if let Some(p) = base.join(&path) {
                self.out.push(p);
            }
        }
        base
    }

    fn redirect(&mut self, redirect: &IoRedirect, base: &Base) {
        let target = match redirect {
            IoRedirect::File(
                fd,
                IoFileRedirectKind::Write
                | IoFileRedirectKind::Append
                | IoFileRedirectKind::Clobber
                | IoFileRedirectKind::ReadAndWrite,
                IoFileRedirectTarget::Filename(w),
            ) if fd.is_none_or(|fd| fd != 0) => self.literal(&w.value),
            // `>&FILE` (not a descriptor number or `-`): stdout and stderr to FILE.
            IoRedirect::File(
                _,
                IoFileRedirectKind::DuplicateOutput,
                IoFileRedirectTarget::Duplicate(w) | IoFileRedirectTarget::Filename(w),
            ) => self
                .literal(&w.value)
                .filter(|t| t != "-" && !t.bytes().all(|b| b.is_ascii_digit())),
            IoRedirect::OutputAndError(w, _) => self.literal(&w.value),
            _ => None,
        };
        if let Some(p) = target.and_then(|t| base.join(&t)) {
            self.out.push(p);
        }
    }

    /// The literal value of a raw word, or `None` when it holds an expansion. Command substitutions in it
    /// are walked for their own writes.
    fn literal(&mut self, raw: &str) -> Option<String> {
        let pieces = brush_parser::word::parse(raw, &ParserOptions::default()).ok()?;
        let mut text = String::new();
        let mut known = true;
        for p in pieces {
            known &= self.piece(&p.piece, &mut text);
        }
        known.then_some(text)
    }

    /// Appends a word piece's literal text; false when it is an expansion.
    fn piece(&mut self, piece: &WordPiece, text: &mut String) -> bool {
        match piece {
            WordPiece::Text(t) | WordPiece::SingleQuotedText(t) => {
                text.push_str(t);
                true
            }
            WordPiece::AnsiCQuotedText(t) => match ansi_c(t) {
                Some(decoded) => {
                    text.push_str(&decoded);
                    true
                }
                None => false,
            },
            WordPiece::EscapeSequence(e) => {
                text.push_str(e.strip_prefix('\\').unwrap_or(e));
                true
            }
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                let mut known = true;
                for p in inner {
                    known &= self.piece(&p.piece, text);
                }
                known
            }
            WordPiece::CommandSubstitution(c) | WordPiece::BackquotedCommandSubstitution(c) => {
                parse_and_walk(c, self.depth + 1, &Base::Start, self.out);
                false
            }
            // `~` and `~/…` at the start of a word: kept as a leading `~` for the caller, who knows
            // HOME (`portcullis_domains::resolve` expands it). `~user`, `~+`, `~-` are not literal.
            WordPiece::TildeExpansion(brush_parser::word::TildeExpr::Home) if text.is_empty() => {
                text.push('~');
                true
            }
            WordPiece::TildeExpansion(_)
            | WordPiece::ParameterExpansion(_)
            | WordPiece::ArithmeticExpression(_) => false,
        }
    }
}

/// The text of a `$'…'` string when its escapes are the plain ones; `None` for the rest (octal, hex,
/// unicode, control characters), which no path in practice holds.
fn ansi_c(raw: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            c @ ('\\' | '\'' | '"' | '?') => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

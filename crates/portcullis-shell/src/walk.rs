//! Walking the parsed command: every simple command that runs, with the literal directory a `cd` left it
//! in, its words made literal where they can be.

use brush_parser::ast::{
    AndOr, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Pipeline, SeparatorOperator, SimpleCommand,
};
use brush_parser::word::WordPiece;
use brush_parser::{Parser, ParserOptions};

use crate::programs;
pub(crate) use crate::reading::Reading;

/// How deep nested parses are followed (command substitutions `$( $( … ) )`, texts read as arithmetic);
/// the nesting guard in `lib.rs` keeps real commands far below it.
const MAX_DEPTH: usize = 64;

/// Where relative paths of the commands walked so far are taken from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// The directory the command started in.
    Start,
    /// A literal directory (relative to the start, or absolute).
    Dir(String),
    /// A `cd` to somewhere not literal: relative paths cannot be known.
    Unknown,
}

impl Base {
    /// `path` as seen from this base; `None` when it cannot be known.
    pub(crate) fn join(&self, path: &str) -> Option<String> {
        if path.starts_with('/') || path == "~" || path.starts_with("~/") {
            return Some(path.to_owned());
        }
        match self {
            Self::Start => Some(path.to_owned()),
            Self::Dir(dir) => Some(format!("{}/{path}", dir.trim_end_matches('/'))),
            Self::Unknown => None,
        }
    }

    /// The base after `cd` with the operands `words` (options skipped): the first operand, which is
    /// unknown when it is not literal; home when there is none (kept as `~` for the caller to expand, as
    /// a leading `~` is).
    pub(crate) fn cd(&self, words: &[Option<String>]) -> Self {
        let target = words
            .iter()
            .find(|w| w.as_deref().is_none_or(|w| !w.starts_with('-') || w == "-"));
        match target.map(Option::as_deref) {
            None => Self::Dir("~".to_owned()),
            Some(Some(t)) => self.cd_to(t),
            Some(None) => Self::Unknown,
        }
    }

    /// The base after moving to the literal folder `t`.
    fn cd_to(&self, t: &str) -> Self {
        if t == "~" || t.starts_with("~/") {
            return Self::Dir(t.to_owned());
        }
        if t.is_empty() || t == "-" || t.starts_with('~') {
            return Self::Unknown;
        }
        self.join(t).map_or(Self::Unknown, Self::Dir)
    }

    /// Where a program runs that `env -C` moved (or not).
    pub(crate) fn chdir(&self, chdir: Option<&programs::Chdir>) -> Self {
        match chdir {
            None => self.clone(),
            Some(programs::Chdir::To(dir)) => self.cd_to(dir),
            Some(programs::Chdir::Unknown) => Self::Unknown,
        }
    }
}

/// What `command` does to files; `None` when the parser panicked on it.
pub(crate) fn writes(command: &str) -> Option<Reading> {
    guarded(|| {
        let mut out = Reading::default();
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
        let mut out = Reading::default();
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

fn parse_and_walk(command: &str, depth: usize, base: &Base, out: &mut Reading) {
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
    out: &'a mut Reading,
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
            // `[[ … ]]` runs nothing but the command substitutions in its words.
            Command::ExtendedTest(test, redirects) => {
                self.substitutions_in(&test.expr.to_string(), &base);
                for r in redirects.iter().flat_map(|l| &l.0) {
                    self.redirect(r, &base);
                }
                base
            }
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
                for value in f.values.iter().flatten() {
                    let _ = self.literal(&value.value, &base);
                }
                self.list(&f.body.list, base.clone());
                base
            }
            CompoundCommand::ArithmeticForClause(f) => {
                self.list(&f.body.list, base.clone());
                base
            }
            // A `cd` in a condition moves what follows it (`if cd api; then …`, `while cd x; do …`),
            // and what comes after the whole command too when it succeeded, which is the case read.
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                let after = self.list(&w.0, base);
                self.list(&w.1.list, after.clone());
                after
            }
            CompoundCommand::IfClause(i) => {
                let after = self.list(&i.condition, base);
                self.list(&i.then, after.clone());
                let mut from = after.clone();
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        from = self.list(c, from);
                    }
                    self.list(&e.body, from.clone());
                }
                after
            }
            CompoundCommand::CaseClause(c) => {
                let _ = self.literal(&c.value.value, &base);
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
            // Not a level of substitution: the text is strictly shorter than the command it came from,
            // so reading it again ends, however many `( (` a command opens with.
            CompoundCommand::Arithmetic(a) => {
                parse_and_walk(&a.expr.value, self.depth, &base, self.out);
                base
            }
        }
    }

    fn simple(&mut self, simple: &SimpleCommand, base: Base) -> Base {
        let items = simple
            .prefix
            .iter()
            .flat_map(|p| p.0.iter().map(|i| (i, true)))
            .chain(
                simple
                    .suffix
                    .iter()
                    .flat_map(|s| s.0.iter().map(|i| (i, false))),
            );
        let mut words: Vec<Option<String>> = Vec::new();
        // What a here-document feeds the program (Codex's `apply_patch <<EOF`).
        let mut stdin: Option<&str> = None;
        if let Some(w) = &simple.word_or_name {
            words.push(self.literal(&w.value, &base));
        }
        for (item, in_prefix) in items {
            match item {
                CommandPrefixOrSuffixItem::IoRedirect(r) => {
                    if let IoRedirect::HereDocument(_, doc) = r {
                        stdin = Some(&doc.doc.value);
                    }
                    self.redirect(r, &base);
                }
                CommandPrefixOrSuffixItem::Word(w) => words.push(self.literal(&w.value, &base)),
                // After the program, `NAME=value` is an operand like any other (`dd of=FILE`).
                CommandPrefixOrSuffixItem::AssignmentWord(_, w) if !in_prefix => {
                    words.push(self.literal(&w.value, &base));
                }
                CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                    // The value may run a command substitution.
                    let _ = self.literal(&w.value, &base);
                }
                CommandPrefixOrSuffixItem::ProcessSubstitution(_, s) => {
                    self.process_substitution(&s.list, &base);
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
                dir: match &base {
                    Base::Start => Some(String::new()),
                    Base::Dir(d) => Some(d.clone()),
                    Base::Unknown => None,
                },
            });
        }
        let Some(program) = programs::real_program(&words) else {
            return base;
        };
        let Some(name) = words[program.at].as_deref().map(programs::base_name) else {
            return base;
        };
        if matches!(name, "cd" | "pushd") {
            // `cd`, `builtin cd`, `command cd`: the first operand, or home when there is none.
            return base.cd(&words[program.at + 1..]);
        }
        if matches!(name, "apply_patch" | "applypatch") {
            // Codex's patch tool run through the shell: the patch is its operand or its stdin.
            let text = words.get(program.at + 1).cloned().flatten();
            if let Some(text) = text.as_deref().or(stdin) {
                self.out.patch(text, &base);
            }
            return base;
        }
        let effects = programs::effects(&words);
        // `env -C DIR cmd`: the program's own paths are DIR's; the shell's redirections stay here.
        let here = base.chdir(effects.chdir.as_ref());
        let scripts = self.out.apply(effects, &here);
        for script in scripts {
            parse_and_walk(&script, self.depth + 1, &here, self.out);
        }
        base
    }

    /// The commands of a process substitution: they run beside this one, from the same folder, and their
    /// status is nobody's.
    fn process_substitution(&mut self, list: &CompoundList, base: &Base) {
        let outer = std::mem::replace(&mut self.decides, false);
        self.list(list, base.clone());
        self.decides = outer;
    }

    fn redirect(&mut self, redirect: &IoRedirect, base: &Base) {
        let target = match redirect {
            // `> >(tee FILE)`, `2> >(…)`, `< <(…)`: the substitution's commands write for themselves.
            IoRedirect::File(_, _, IoFileRedirectTarget::ProcessSubstitution(_, s)) => {
                self.process_substitution(&s.list, base);
                None
            }
            IoRedirect::File(
                fd,
                IoFileRedirectKind::Write
                | IoFileRedirectKind::Append
                | IoFileRedirectKind::Clobber
                | IoFileRedirectKind::ReadAndWrite,
                IoFileRedirectTarget::Filename(w),
            ) if fd.is_none_or(|fd| fd != 0) => self.literal(&w.value, base),
            // `>&FILE` (not a descriptor number or `-`): stdout and stderr to FILE.
            IoRedirect::File(
                _,
                IoFileRedirectKind::DuplicateOutput,
                IoFileRedirectTarget::Duplicate(w) | IoFileRedirectTarget::Filename(w),
            ) => self
                .literal(&w.value, base)
                .filter(|t| t != "-" && !t.bytes().all(|b| b.is_ascii_digit())),
            IoRedirect::OutputAndError(w, _) => self.literal(&w.value, base),
            // A file read as input (`< F`, `0< F`): recorded, for the guards of secret files.
            IoRedirect::File(_, IoFileRedirectKind::Read, IoFileRedirectTarget::Filename(w)) => {
                if let Some(p) = self.literal(&w.value, base).and_then(|t| base.join(&t)) {
                    self.out.reads.push(p);
                }
                None
            }
            // A read's file name may still run a command substitution.
            IoRedirect::File(
                _,
                _,
                IoFileRedirectTarget::Filename(w) | IoFileRedirectTarget::Duplicate(w),
            )
            | IoRedirect::HereString(_, w) => {
                let _ = self.literal(&w.value, base);
                None
            }
            // An unquoted here-document's body is expanded: its command substitutions run.
            IoRedirect::HereDocument(_, doc) => {
                if doc.requires_expansion {
                    self.substitutions_in(&doc.doc.value, base);
                }
                None
            }
            IoRedirect::File(_, _, IoFileRedirectTarget::Fd(_)) => None,
        };
        if let Some(p) = target.and_then(|t| base.join(&t)) {
            self.out.write(p);
        }
    }

    /// Walks the command substitutions of a text that is expanded but not split into words (a
    /// here-document's body, a `[[ … ]]` test): read as the inside of double quotes, where quotes are
    /// plain text and `$(…)` and backquotes run.
    fn substitutions_in(&mut self, text: &str, base: &Base) {
        if !text.contains("$(") && !text.contains('`') {
            return;
        }
        let quoted = format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
        let _ = self.literal(&quoted, base);
    }

    /// The literal value of a raw word, or `None` when it holds an expansion or an unquoted pattern (a
    /// glob or a brace expansion, which the shell may turn into other names). Command substitutions in it
    /// are walked for their own writes, from `base`.
    fn literal(&mut self, raw: &str, base: &Base) -> Option<String> {
        let pieces = brush_parser::word::parse(raw, &ParserOptions::default()).ok()?;
        let mut text = String::new();
        let mut known = true;
        for p in pieces {
            known &= self.piece(&p.piece, &mut text, base, false);
        }
        known.then_some(text)
    }

    /// Appends a word piece's literal text; false when it is an expansion or an unquoted pattern.
    fn piece(&mut self, piece: &WordPiece, text: &mut String, base: &Base, quoted: bool) -> bool {
        match piece {
            WordPiece::Text(t) => {
                text.push_str(t);
                quoted || !is_pattern(t)
            }
            WordPiece::SingleQuotedText(t) => {
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
                    known &= self.piece(&p.piece, text, base, true);
                }
                known
            }
            WordPiece::CommandSubstitution(c) | WordPiece::BackquotedCommandSubstitution(c) => {
                // A subshell that starts where the command is.
                parse_and_walk(c, self.depth + 1, base, self.out);
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

/// Whether unquoted text holds a glob (`*`, `?`, `[…]`) or a brace expansion (`{a,b}`, `{1..3}`): the
/// shell may turn it into other names.
fn is_pattern(text: &str) -> bool {
    if text.contains(['*', '?']) {
        return true;
    }
    if let Some(open) = text.find('[')
        && text[open..].contains(']')
    {
        return true;
    }
    text.find('{').is_some_and(|open| {
        text[open..].find('}').is_some_and(|close| {
            text[open..open + close].contains([',']) || text[open..open + close].contains("..")
        })
    })
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

//! A Squid configuration's text as Squid 5.7's parser reads it, before
//! any directive is understood: physical lines joined where one ends in a
//! backslash, comments and blank lines skipped, `if`/`else`/`endif`
//! decided, macros expanded, `include` followed (glob patterns too, in
//! the order `glob(3)` gives), and each directive cut into tokens (a token
//! that begins with `#` ends the line; `"quoted"` tokens and
//! `parameters("file")`). Each directive is handed on as it is read, its
//! tokens borrowed from the line.

use std::borrow::Cow;

use super::Files;
use crate::allowlist::ReadError;

/// How deep includes may nest (Squid's own limit) and how many files
/// they may read in all (a bound of egress's, against runaway globs).
const MAX_DEPTH: usize = 16;
const MAX_FILES: usize = 1_000;

/// One directive: where it starts, and its tokens (their columns count
/// from the start of that line).
#[derive(Debug, Clone)]
pub(crate) struct Directive<'a> {
    pub file: &'a str,
    pub line: usize,
    pub tokens: Vec<Token<'a>>,
}

impl Directive<'_> {
    /// `file:line`.
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The directive as written, tokens joined by one space.
    pub fn text(&self) -> String {
        self.tokens
            .iter()
            .map(|t| t.written)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One token of a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The value: without quotes, escapes undone; for a file, the file
    /// named.
    pub value: Cow<'a, str>,
    pub kind: TokenKind,
    /// As written.
    pub written: &'a str,
    /// The column (1-based) of the token in its line.
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Plain,
    /// `"file"` (or `'file'`) while quoted values are off (Squid's
    /// default): in an ACL, the values of that file, and the end of the
    /// line's values.
    QuotedFile,
    /// `parameters("file")`, while quoted values are on: the values of
    /// that file.
    ParametersFile,
    /// `"text"` while quoted values are on: the text itself.
    Literal,
}

/// What reading gives, in order.
#[derive(Debug)]
pub(crate) enum Event<'d, 'a> {
    Directive(&'d Directive<'a>),
    /// An include that could not be followed: `file:line`, and why.
    Missing(String, String),
    /// An `if` decided on a value egress assumed: `file:line`.
    Assumed(String),
    Error(ReadError),
}

/// Where [`read`] hands what it reads.
pub(crate) type Sink<'s> = dyn for<'d, 'a> FnMut(Event<'d, 'a>) + 's;

/// Reading state across files.
struct Reading<'f, 'k, 's> {
    files: &'f dyn Files,
    sink: &'k mut Sink<'s>,
    /// Files included so far.
    count: usize,
    /// `configuration_includes_quoted_values`, as it stands.
    quoted_values: bool,
}

/// Reads the configuration `text` (the file `file`) and the files it
/// includes through `files`, handing each directive, missing include and
/// problem to `sink` in order.
pub(crate) fn read(file: &str, text: &str, files: &dyn Files, sink: &mut Sink<'_>) {
    let mut reading = Reading {
        files,
        sink,
        count: 0,
        quoted_values: false,
    };
    read_file(file, text, 0, &mut reading);
}

fn error(file: &str, line: usize, column: usize, message: String) -> Event<'static, 'static> {
    Event::Error(ReadError {
        file: file.to_owned(),
        line,
        column,
        message,
    })
}

/// The lines Squid parses: (first physical line, its indentation, text). A `\r` or `\n`
/// ends a line; leading blanks are dropped; `#` lines and blank lines are
/// skipped, also inside a continued line; a line whose last character is
/// a backslash continues with the next line's text, glued on without a
/// space (a backslash followed by blanks is a backslash).
fn logical_lines(text: &str) -> Vec<(usize, usize, Cow<'_, str>)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, usize, String)> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.split('\r').next().unwrap_or_default();
        let line = raw.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let blank = line.trim_end_matches(|c: char| c.is_ascii_whitespace());
        if blank.is_empty() || line.starts_with('#') {
            continue;
        }
        let indent = raw.len() - line.len();
        let continued = line.strip_suffix('\\');
        match (pending.take(), continued) {
            (None, None) => out.push((i + 1, indent, Cow::Borrowed(blank))),
            (None, Some(part)) => pending = Some((i + 1, indent, part.to_owned())),
            (Some((start, indent, mut joined)), Some(part)) => {
                joined.push_str(part);
                pending = Some((start, indent, joined));
            }
            (Some((start, indent, mut joined)), None) => {
                joined.push_str(blank);
                out.push((start, indent, Cow::Owned(joined)));
            }
        }
    }
    // A line still continued at the end of the file is never parsed, as
    // in Squid.
    out
}

/// Squid's macros, as one non-SMP Squid (worker 1) expands them.
fn expand_macros(line: Cow<'_, str>) -> Cow<'_, str> {
    if !line.contains("${") {
        return line;
    }
    Cow::Owned(
        line.replace("${process_name}", "squid")
            .replace("${process_number}", "1")
            .replace("${service_name}", "squid"),
    )
}

fn read_file(file: &str, text: &str, depth: usize, r: &mut Reading<'_, '_, '_>) {
    // Each open `if`: whether its branch is taken now. Squid looks only at
    // the innermost one (an `if true` inside an `if false` is read).
    let mut conditions: Vec<bool> = Vec::new();
    for (number, indent, line) in logical_lines(text) {
        let assumed = line.contains('$') && line.contains("${process_number}");
        let line = expand_macros(line);
        let word = line.split_ascii_whitespace().next().unwrap_or_default();
        match word {
            "if" => {
                let expression = line[2..].trim();
                match condition(expression) {
                    Some(value) => conditions.push(value),
                    None => {
                        (r.sink)(error(
                            file,
                            number,
                            indent + 4,
                            format!(
                                "`if {expression}`: Squid cannot evaluate this condition (it is fatal); write `true`, `false` or `NUMBER = NUMBER`, with no comment after it"
                            ),
                        ));
                        conditions.push(false);
                    }
                }
                if assumed {
                    (r.sink)(Event::Assumed(format!("{file}:{number}")));
                }
                continue;
            }
            // Squid takes `else` and `endif` by their first word (`endif #
            // workers` is an `endif`).
            "else" | "endif" => {
                let Some(last) = conditions.last_mut() else {
                    (r.sink)(error(
                        file,
                        number,
                        indent + 1,
                        format!("`{word}` without `if` (Squid refuses it)"),
                    ));
                    continue;
                };
                if word == "else" {
                    *last = !*last;
                } else {
                    conditions.pop();
                }
                continue;
            }
            _ => {}
        }
        if conditions.last() == Some(&false) {
            continue;
        }
        if word == "configuration_includes_quoted_values" {
            r.quoted_values = line.split_ascii_whitespace().nth(1) == Some("on");
        }
        let tokens = match tokens(&line, r.quoted_values) {
            Ok(mut t) => {
                for token in &mut t {
                    token.column += indent;
                }
                t
            }
            Err((column, message)) => {
                (r.sink)(error(file, number, column + indent, message));
                continue;
            }
        };
        if word == "include" {
            include(file, number, &tokens[1..], depth, r);
            continue;
        }
        if !tokens.is_empty() {
            (r.sink)(Event::Directive(&Directive {
                file,
                line: number,
                tokens,
            }));
        }
    }
    if !conditions.is_empty() {
        let last = text.lines().count().max(1);
        (r.sink)(error(
            file,
            last,
            1,
            "an `if` is not closed: add `endif` (Squid refuses the file)".to_owned(),
        ));
    }
}

/// `true`, `false`, or `A = B` between integers, as Squid's
/// `EvalBoolExpr` decides.
fn condition(expression: &str) -> Option<bool> {
    match expression {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            let (left, right) = expression.split_once('=')?;
            let left: i64 = left.trim().parse().ok()?;
            let right: i64 = right.trim().parse().ok()?;
            Some(left == right)
        }
    }
}

fn include(
    file: &str,
    number: usize,
    patterns: &[Token<'_>],
    depth: usize,
    r: &mut Reading<'_, '_, '_>,
) {
    if patterns.is_empty() {
        (r.sink)(error(file, number, 1, "`include` names no file".to_owned()));
        return;
    }
    if depth + 1 > MAX_DEPTH {
        (r.sink)(error(
            file,
            number,
            1,
            format!("`include`: includes are nested more than {MAX_DEPTH} deep (Squid's limit)"),
        ));
        return;
    }
    // Squid expands every pattern first, then reads the files in order.
    let mut paths = Vec::new();
    for pattern in patterns {
        match glob(&pattern.value, r.files) {
            Ok(found) if !found.is_empty() => paths.extend(found),
            Ok(_) => (r.sink)(Event::Missing(
                format!("{file}:{number}"),
                format!("`include {}`: no file matches", pattern.value),
            )),
            Err(e) => (r.sink)(Event::Missing(
                format!("{file}:{number}"),
                format!("`include {}`: {e}", pattern.value),
            )),
        }
    }
    for path in paths {
        r.count += 1;
        if r.count > MAX_FILES {
            (r.sink)(error(
                file,
                number,
                1,
                format!("`include`: more than {MAX_FILES} files in all"),
            ));
            return;
        }
        match r.files.read(&path) {
            Ok(text) => read_file(&path, &text, depth + 1, r),
            Err(e) => (r.sink)(Event::Missing(
                format!("{file}:{number}"),
                format!("`include {path}`: {e}"),
            )),
        }
    }
}

/// The files a pattern names, as `glob(3)` finds them: `*`, `?` and
/// `[...]` within one path component, names that begin with `.` only
/// where the pattern's component does, sorted. A path without a
/// wildcard is itself (whether it exists is for the read to say).
pub(crate) fn glob(pattern: &str, files: &dyn Files) -> Result<Vec<String>, String> {
    if !pattern.contains(['*', '?', '[']) {
        return Ok(vec![pattern.to_owned()]);
    }
    let absolute = pattern.starts_with('/');
    let mut found: Vec<String> = vec![if absolute {
        "/".to_owned()
    } else {
        String::new()
    }];
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, component) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        let join = |base: &str, name: &str| {
            if base.is_empty() || base.ends_with('/') {
                format!("{base}{name}")
            } else {
                format!("{base}/{name}")
            }
        };
        if !component.contains(['*', '?', '[']) {
            found = found.iter().map(|b| join(b, component)).collect();
            continue;
        }
        // glob(3) has no `{a,b}`: braces are themselves.
        let component_glob = component.replace('{', "[{]").replace('}', "[}]");
        let matcher = globset::GlobBuilder::new(&component_glob)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("`{pattern}` is not a pattern: {e}"))?
            .compile_matcher();
        let mut next = Vec::new();
        for base in &found {
            let dir = if base.is_empty() { "." } else { base.as_str() };
            let Ok(names) = files.list(dir) else {
                continue;
            };
            for name in names {
                if name.starts_with('.') && !component.starts_with('.') {
                    continue;
                }
                if matcher.is_match(&name) {
                    let path = join(base, &name);
                    if last || files.list(&path).is_ok() {
                        next.push(path);
                    }
                }
            }
        }
        found = next;
    }
    found.sort();
    Ok(found)
}

/// The tokens of a directive line as Squid's `ConfigParser` cuts them:
/// blanks separate tokens; a token that begins with `#` ends the line.
/// While quoted values are off (`quoted_values` false, Squid's default),
/// a token that begins with a quote names a file up to the next quote;
/// while they are on, `"..."` is one token (`\` escapes the next
/// character) and `parameters("file")` names a file. An error: the
/// column and what is wrong.
pub(crate) fn tokens(line: &str, quoted_values: bool) -> Result<Vec<Token<'_>>, (usize, String)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if bytes[i] == b'#' {
            break;
        }
        if quoted_values && bytes[i] == b'"' {
            let (value, end) = quoted(line, i)?;
            out.push(Token {
                value: Cow::Owned(value),
                kind: TokenKind::Literal,
                written: &line[start..end],
                column: start + 1,
            });
            i = end;
            continue;
        }
        if quoted_values && line[i..].starts_with("parameters(") {
            let open = i + "parameters(".len();
            let (value, end) = if bytes.get(open) == Some(&b'"') {
                quoted(line, open)?
            } else {
                return Err((
                    start + 1,
                    "`parameters(` takes a quoted file name: write `parameters(\"/path/to/file\")`"
                        .to_owned(),
                ));
            };
            if bytes.get(end) != Some(&b')') {
                return Err((
                    start + 1,
                    "`parameters(` is not closed: write `parameters(\"/path/to/file\")`".to_owned(),
                ));
            }
            out.push(Token {
                value: Cow::Owned(value),
                kind: TokenKind::ParametersFile,
                written: &line[start..=end],
                column: start + 1,
            });
            i = end + 1;
            continue;
        }
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let written = &line[start..i];
        let (value, kind) = match written.strip_prefix(['"', '\'']) {
            Some(name) if !quoted_values => {
                let end = name.find(['"', '\'']).unwrap_or(name.len());
                (&name[..end], TokenKind::QuotedFile)
            }
            _ => (written, TokenKind::Plain),
        };
        out.push(Token {
            value: Cow::Borrowed(value),
            kind,
            written,
            column: start + 1,
        });
    }
    Ok(out)
}

/// A quoted string starting at `start` (the `"`): its value and the index
/// after its closing quote.
fn quoted(line: &str, start: usize) -> Result<(String, usize), (usize, String)> {
    let mut value = String::new();
    let mut chars = line[start + 1..].char_indices();
    while let Some((n, c)) = chars.next() {
        match c {
            '"' => return Ok((value, start + 1 + n + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, 't')) => value.push('\t'),
                Some((_, escaped)) => value.push(escaped),
                None => break,
            },
            c => value.push(c),
        }
    }
    Err((
        start + 1,
        "a quoted string is not closed: add the closing `\"`".to_owned(),
    ))
}

/// The values of an ACL's list file (`"file"`), as Squid reads one: a
/// value a line, from its first character that is not blank to the end
/// of its last word before a word that begins with `#` (a value may hold
/// blanks); `#` lines and blank lines skipped. With their line numbers.
pub(crate) fn list_values(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.split('\r').next().unwrap_or_default();
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Cut before the first word that begins with `#`.
        let mut end = line.len();
        let mut previous_blank = true;
        for (n, c) in line.char_indices() {
            if c == '#' && previous_blank {
                end = n;
                break;
            }
            previous_blank = c.is_ascii_whitespace();
        }
        let value = line[..end].trim_end();
        if !value.is_empty() {
            out.push((value.to_owned(), i + 1));
        }
    }
    out
}

/// The values of a `parameters("file")` file: its tokens, read as the
/// configuration's own (several to a line, `#` words ending a line).
pub(crate) fn parameter_values(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.split('\r').next().unwrap_or_default();
        if let Ok(tokens) = tokens(raw, true) {
            out.extend(tokens.into_iter().map(|t| (t.value.into_owned(), i + 1)));
        }
    }
    out
}

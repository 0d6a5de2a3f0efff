//! Problems found in an input file, with their place in it.
//!
//! Loading collects every problem it can find and reports them all at once;
//! a file with problems produces nothing else.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A file's name (as the user gave it) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One problem: where it is, what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte range in the file.
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Problem {
        Problem {
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one file. Displayed one per line as
/// `file:line:column: message`.
#[derive(Debug, Clone, thiserror::Error)]
pub struct FileProblems {
    pub file: SourceFile,
    pub problems: Vec<Problem>,
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let (line, column) = self.file.line_column(problem.span.start);
            write!(f, "{}:{line}:{column}: {}", self.file.name, problem.message)?;
            if let Some(help) = &problem.help {
                write!(f, " (help: {help})")?;
            }
        }
        Ok(())
    }
}

/// Collects problems while a file is checked.
#[derive(Debug)]
pub(crate) struct Problems {
    list: Vec<Problem>,
    /// The documentation of the file's format, for help texts.
    doc: &'static str,
    /// Keys given but unreadable (reported), by the start of their table:
    /// not to be reported missing too.
    unreadable: BTreeSet<(usize, String)>,
}

impl Default for Problems {
    fn default() -> Self {
        Problems::of_format("docs/catalog-format.md")
    }
}

impl Problems {
    /// Problems of a file whose format `doc` describes.
    pub(crate) fn of_format(doc: &'static str) -> Problems {
        Problems {
            list: Vec::new(),
            doc,
            unreadable: BTreeSet::new(),
        }
    }

    /// Notes that `key` of the table at `table` is given but could not be
    /// read (a problem already reported).
    pub(crate) fn unreadable(&mut self, table: &Range<usize>, key: &str) {
        self.unreadable.insert((table.start, key.to_owned()));
    }

    /// Whether `key` of the table at `table` is given, though unreadable.
    pub(crate) fn given_but_unreadable(&self, table: &Range<usize>, key: &str) -> bool {
        self.unreadable.contains(&(table.start, key.to_owned()))
    }

    pub(crate) fn doc(&self) -> &'static str {
        self.doc
    }

    pub(crate) fn push(&mut self, problem: Problem) {
        self.list.push(problem);
    }

    /// A key a table must have: reported at the table when missing, so
    /// that every missing key of every table shows in one run.
    pub(crate) fn require<T>(
        &mut self,
        value: Option<T>,
        table: &Range<usize>,
        what: &str,
        key: &str,
    ) -> Option<T> {
        if value.is_none() && !self.given_but_unreadable(table, key) {
            self.push(
                Problem::new(table.clone(), format!("{what} has no `{key}`"))
                    .with_help(format!("add `{key} = ...` to it")),
            );
        }
        value
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn into_result<T>(self, file: &SourceFile, value: T) -> Result<T, FileProblems> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            let mut problems = self.list;
            problems.sort_by_key(|p| (p.span.start, p.span.end));
            problems.dedup();
            Err(FileProblems {
                file: file.clone(),
                problems,
            })
        }
    }
}

/// The known name closest to `unknown`, for "did you mean" hints: by edit
/// distance, within a third of the name's length.
pub fn did_you_mean<'a>(
    unknown: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (unknown.chars().count() / 3).max(2);
    known
        .into_iter()
        .map(|k| (edit_distance(unknown, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column() {
        let file = SourceFile::new("f", "ab\ncdé\nf");
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(3), (2, 1));
        assert_eq!(file.line_column(7), (2, 4));
        assert_eq!(file.line_column(8), (3, 1));
        assert_eq!(file.line_column(100), (3, 2));
    }

    #[test]
    fn suggestions() {
        let known = ["cloud-services", "co-management", "client"];
        assert_eq!(did_you_mean("cloud-service", known), Some("cloud-services"));
        assert_eq!(did_you_mean("comanagement", known), Some("co-management"));
        assert_eq!(did_you_mean("xyz", known), None);
    }
}

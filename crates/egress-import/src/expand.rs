//! Front matter and `[!INCLUDE [...](path)]` expansion: one text for the
//! markdown parser, and for each of its lines the file and line it came
//! from.

use std::path::{Component, Path, PathBuf};

use crate::{ImportError, Read};

/// The `key: value` lines of a page's front matter that the importer uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontMatter {
    pub title: Option<String>,
    /// `ms.date`, as `YYYY-MM-DD`.
    pub date: Option<String>,
    /// An `ms.date` that is not a date: its line and text as written.
    pub bad_date: Option<(u32, String)>,
    /// `ms.contentlocale` (localized pages) or `ms.locale`.
    pub locale: Option<String>,
    /// Whether any `ms.*` key is present: a Microsoft Learn page.
    pub microsoft: bool,
}

/// One file that went into the expanded text: the page or an include.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub front: FrontMatter,
}

/// Where a line of the expanded text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Index into [`Expanded::files`].
    pub file: usize,
    /// 1-based line in that file.
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Expanded {
    pub text: String,
    /// One entry per line of `text`.
    pub origins: Vec<Origin>,
    /// Byte offset of the start of each line of `text`.
    line_starts: Vec<usize>,
    pub files: Vec<SourceFile>,
}

impl Expanded {
    /// Where a line of a file sits in the expanded text (reading order).
    pub fn position(&self, origin: Origin) -> usize {
        self.origins
            .iter()
            .position(|o| *o == origin)
            .unwrap_or(usize::MAX)
    }

    /// The origin of the line holding byte `offset` of the expanded text.
    pub fn origin(&self, offset: usize) -> Origin {
        let i = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        self.origins
            .get(i)
            .copied()
            .unwrap_or(Origin { file: 0, line: 1 })
    }
}

/// Includes nest at most this deep, and the expanded text stays under this
/// size, so that a page including itself through many paths cannot grow
/// without bound.
const MAX_DEPTH: usize = 16;
const MAX_TEXT: usize = 16 << 20;

/// Reads `page` and expands its includes. `includes` overrides the folder
/// that the page's own include paths are resolved against; includes inside
/// includes are resolved against their including file.
pub fn expand(
    page: &Path,
    includes: Option<&Path>,
    read: Read<'_>,
) -> Result<Expanded, ImportError> {
    let mut out = Expanded {
        text: String::new(),
        origins: Vec::new(),
        line_starts: Vec::new(),
        files: Vec::new(),
    };
    let text = read_text(page, None, read)?;
    let mut stack = vec![normalize(page)];
    expand_into(&mut out, page, &text, includes, "", &mut stack, read)?;
    Ok(out)
}

fn expand_into(
    out: &mut Expanded,
    path: &Path,
    text: &str,
    includes: Option<&Path>,
    indent: &str,
    stack: &mut Vec<PathBuf>,
    read: Read<'_>,
) -> Result<(), ImportError> {
    let (front, body_start) = front_matter(path, text)?;
    let file = out.files.len();
    out.text.reserve(text.len() + indent.len() * 64);
    let lines = text.bytes().filter(|b| *b == b'\n').count() + 1;
    out.origins.reserve(lines);
    out.line_starts.reserve(lines);
    out.files.push(SourceFile {
        path: path.to_owned(),
        front,
    });
    if indent.is_empty() && !text.contains("[!") {
        // No include in this file: the body goes over whole.
        copy_body(out, file, text, body_start);
        let last = out.origins.last().map_or(1, |o| o.line);
        return check_size(out, path, last);
    }
    for (n, line) in text.lines().enumerate().skip(body_start) {
        let line_no = n as u32 + 1;
        if let Some(target) = include_directive(line) {
            let base = match includes {
                Some(dir) => dir.to_owned(),
                None => path.parent().map(Path::to_owned).unwrap_or_default(),
            };
            let resolved = normalize(&base.join(target));
            let at = Some((path, line_no));
            if let Some(first) = stack.iter().position(|p| *p == resolved) {
                let mut chain: Vec<String> = stack[first..]
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                chain.push(resolved.display().to_string());
                return Err(ImportError::IncludeCycle {
                    file: path.to_owned(),
                    line: line_no,
                    chain: chain.join(" -> "),
                });
            }
            if stack.len() >= MAX_DEPTH {
                return Err(ImportError::IncludeDepth {
                    file: path.to_owned(),
                    line: line_no,
                    max: MAX_DEPTH,
                });
            }
            let included = read_text(&resolved, at, read)?;
            let lead: String = line.chars().take_while(|c| c.is_whitespace()).collect();
            let nested_indent = format!("{indent}{lead}");
            stack.push(resolved.clone());
            expand_into(out, &resolved, &included, None, &nested_indent, stack, read)?;
            stack.pop();
            continue;
        }
        out.line_starts.push(out.text.len());
        out.text.push_str(indent);
        out.text.push_str(line);
        out.text.push('\n');
        out.origins.push(Origin {
            file,
            line: line_no,
        });
        check_size(out, path, line_no)?;
    }
    Ok(())
}

fn check_size(out: &Expanded, path: &Path, line: u32) -> Result<(), ImportError> {
    if out.text.len() > MAX_TEXT {
        return Err(ImportError::TooLarge {
            file: path.to_owned(),
            line,
            max: MAX_TEXT,
        });
    }
    Ok(())
}

/// Appends the lines of `text` from line index `from` on, with their
/// origins, in one copy.
fn copy_body(out: &mut Expanded, file: usize, text: &str, from: usize) {
    let mut start = 0;
    for _ in 0..from {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return,
        }
    }
    let body = &text[start..];
    let base = out.text.len();
    out.text.push_str(body);
    if !body.is_empty() && !body.ends_with('\n') {
        out.text.push('\n');
    }
    let mut line = from as u32 + 1;
    let mut at = 0;
    while at < body.len() {
        out.line_starts.push(base + at);
        out.origins.push(Origin { file, line });
        line += 1;
        at = body[at..].find('\n').map_or(body.len(), |i| at + i + 1);
    }
}

fn read_text(path: &Path, at: Option<(&Path, u32)>, read: Read<'_>) -> Result<String, ImportError> {
    let bytes = read(path).map_err(|error| match at {
        Some((file, line)) => ImportError::Include {
            file: file.to_owned(),
            line,
            include: path.to_owned(),
            error: error.to_string(),
        },
        None => ImportError::Read {
            file: path.to_owned(),
            error: error.to_string(),
        },
    })?;
    let text = egress_text::decode(&bytes)
        .map_err(|e| ImportError::NotMarkdown {
            file: path.to_owned(),
            line: e.line as u32,
            column: e.column as u32,
            reason: e.what,
        })?
        .text;
    let head = text
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Err(ImportError::NotMarkdown {
            file: path.to_owned(),
            line: 1,
            column: 1,
            reason: "this is an HTML page; save the page's markdown source instead (the \
                     `internet-endpoints.md` file in the MicrosoftDocs/memdocs repository)"
                .to_owned(),
        });
    }
    Ok(text)
}

/// The front matter between a first line `---` and the next `---`; the
/// index of the first body line.
fn front_matter(path: &Path, text: &str) -> Result<(FrontMatter, usize), ImportError> {
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Ok((FrontMatter::default(), 0));
    }
    let mut front = FrontMatter::default();
    for (n, line) in lines.enumerate() {
        if line.trim_end() == "---" {
            return Ok((front, n + 2));
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        front.microsoft |= key.starts_with("ms.");
        match key {
            "title" => front.title = Some(value.to_owned()),
            "ms.date" => {
                front.date = us_date(value);
                if front.date.is_none() {
                    front.bad_date = Some((n as u32 + 2, value.to_owned()));
                }
            }
            "ms.contentlocale" | "ms.locale" => front.locale = Some(value.to_owned()),
            _ => {}
        }
    }
    Err(ImportError::NotMarkdown {
        file: path.to_owned(),
        line: 1,
        column: 1,
        reason: "front matter opened with `---` on the first line is never closed".to_owned(),
    })
}

/// `ms.date` is written `MM/DD/YYYY`.
fn us_date(value: &str) -> Option<String> {
    let mut parts = value.split('/');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    let (m, d, y): (u8, u8, u16) = (m.parse().ok()?, d.parse().ok()?, y.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d) && parts.next().is_none())
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// The path of a block-level `[!INCLUDE [title](path)]` line.
fn include_directive(line: &str) -> Option<&str> {
    let t = line.trim();
    let rest = t.strip_prefix("[!")?;
    if !rest.get(..7)?.eq_ignore_ascii_case("INCLUDE") {
        return None;
    }
    let open = t.find("](")?;
    let rest = &t[open + 2..];
    let close = rest.find(')')?;
    let target = rest[..close].trim();
    (!target.is_empty() && t.ends_with(']')).then_some(target)
}

/// Lexical normalization: `.` dropped, `..` pops a component; no file
/// system access (the page may come from anywhere the reader can read).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_directives() {
        assert_eq!(
            include_directive("[!INCLUDE [x](includes/a.md)]"),
            Some("includes/a.md")
        );
        assert_eq!(include_directive("  [!include[x](a.md)]  "), Some("a.md"));
        assert_eq!(include_directive("[!NOTE]"), None);
        assert_eq!(include_directive("see [!INCLUDE [x](a.md)] here"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(us_date("07/07/2020").as_deref(), Some("2020-07-07"));
        assert_eq!(us_date("13/07/2020"), None);
        assert_eq!(us_date("2020-07-07"), None);
    }
}

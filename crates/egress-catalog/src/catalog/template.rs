//! Host templates: a host pattern that may contain `<placeholder>`s, which a
//! site profile fills in.

use std::fmt;

use egress_pattern::{HostError, HostPattern};

use super::PlaceholderKind;

/// A host or host pattern, possibly with placeholders. Without
/// placeholders it is a [`HostPattern`]; with them it becomes one once a
/// profile gives every value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTemplate {
    /// Normalized text, placeholders written `<name>`.
    text: String,
    segments: Vec<Segment>,
    pattern: Option<HostPattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Placeholder(String),
}

/// Why a template is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TemplateError {
    #[error("unknown placeholder `<{name}>`")]
    UnknownPlaceholder { name: String, offset: usize },
    #[error("unclosed `<`: a placeholder is written `<name>`")]
    Unclosed { offset: usize },
    #[error("invalid host pattern: {error}")]
    Pattern {
        error: HostError,
        /// Where in the template, when it can be told.
        offset: Option<usize>,
    },
}

/// Why a template could not be turned into a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("needs a value for {}", .0.iter().map(|n| format!("<{n}>")).collect::<Vec<_>>().join(", "))]
    Missing(Vec<String>),
    #[error("`{text}` is not a valid host pattern: {error}")]
    Invalid { text: String, error: HostError },
}

impl HostTemplate {
    /// Parses a template; `kind_of` tells the kind of each declared
    /// placeholder (and `None` for an undeclared one).
    pub(crate) fn parse(
        input: &str,
        kind_of: impl Fn(&str) -> Option<PlaceholderKind>,
    ) -> Result<HostTemplate, TemplateError> {
        let mut segments = Vec::new();
        let mut rest = input;
        let mut offset = 0;
        let mut first_placeholder = None;
        while let Some(open) = rest.find('<') {
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_owned()));
            }
            let Some(close) = rest[open..].find('>') else {
                return Err(TemplateError::Unclosed {
                    offset: offset + open,
                });
            };
            let name = &rest[open + 1..open + close];
            if kind_of(name).is_none() {
                return Err(TemplateError::UnknownPlaceholder {
                    name: name.to_owned(),
                    offset: offset + open,
                });
            }
            first_placeholder.get_or_insert(offset + open);
            segments.push(Segment::Placeholder(name.to_owned()));
            offset += open + close + 1;
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_owned()));
        }

        // Validate the shape with a stand-in value for each placeholder.
        let stand_in = substitute(&segments, |name| {
            Some(match kind_of(name) {
                Some(PlaceholderKind::Host) => "h.example",
                _ => "x",
            })
        })
        .expect("every placeholder has a stand-in");
        let checked = HostPattern::parse(&stand_in).map_err(|error| TemplateError::Pattern {
            offset: match first_placeholder {
                Some(first) if error.position >= first => None,
                _ => Some(error.position),
            },
            error,
        })?;

        if first_placeholder.is_none() {
            return Ok(HostTemplate {
                text: checked.as_str().to_owned(),
                segments: vec![Segment::Literal(checked.as_str().to_owned())],
                pattern: Some(checked),
            });
        }
        for segment in &mut segments {
            if let Segment::Literal(text) = segment {
                text.make_ascii_lowercase();
            }
        }
        let text = segments
            .iter()
            .map(|s| match s {
                Segment::Literal(t) => t.clone(),
                Segment::Placeholder(n) => format!("<{n}>"),
            })
            .collect();
        Ok(HostTemplate {
            text,
            segments,
            pattern: None,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The pattern, when the template has no placeholders.
    pub fn pattern(&self) -> Option<&HostPattern> {
        self.pattern.as_ref()
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Placeholder(n) => Some(n.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Fills in the placeholders.
    pub fn resolve<'v>(
        &self,
        value_of: impl Fn(&str) -> Option<&'v str>,
    ) -> Result<HostPattern, ResolveError> {
        if let Some(pattern) = &self.pattern {
            return Ok(pattern.clone());
        }
        let text = substitute(&self.segments, &value_of).map_err(ResolveError::Missing)?;
        HostPattern::parse(&text).map_err(|error| ResolveError::Invalid { text, error })
    }
}

fn substitute<'v>(
    segments: &[Segment],
    value_of: impl Fn(&str) -> Option<&'v str>,
) -> Result<String, Vec<String>> {
    let mut out = String::new();
    let mut missing = Vec::new();
    for segment in segments {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Placeholder(name) => match value_of(name) {
                Some(value) => out.push_str(value),
                None => {
                    if !missing.contains(name) {
                        missing.push(name.clone());
                    }
                }
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

impl fmt::Display for HostTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(name: &str) -> Option<PlaceholderKind> {
        match name {
            "prefix" | "region" => Some(PlaceholderKind::Label),
            "sup" => Some(PlaceholderKind::Host),
            _ => None,
        }
    }

    #[track_caller]
    fn check(template: &str, values: &[(&str, &str)], expected: Result<&str, &str>) {
        let parsed = HostTemplate::parse(template, kind_of).map_err(|e| e.to_string());
        let got = parsed.and_then(|t| {
            t.resolve(|n| values.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
                .map(|p| p.to_string())
                .map_err(|e| e.to_string())
        });
        assert_eq!(got.as_deref(), expected.map_err(str::to_owned).as_deref());
    }

    #[test]
    fn templates() {
        check("Download.Microsoft.com", &[], Ok("download.microsoft.com"));
        check(
            "<prefix>.<region>.CloudApp.Azure.com",
            &[("prefix", "GraniteFalls"), ("region", "westus")],
            Ok("granitefalls.westus.cloudapp.azure.com"),
        );
        check(
            "<prefix>.<region>.cloudapp.azure.com",
            &[("prefix", "gf")],
            Err("needs a value for <region>"),
        );
        check(
            "<sup>",
            &[("sup", "sup01.contoso.com")],
            Ok("sup01.contoso.com"),
        );
        check(
            "*.<region>.logic.azure.com",
            &[("region", "westus2")],
            Ok("*.westus2.logic.azure.com"),
        );
        check(
            "<nope>.example.com",
            &[],
            Err("unknown placeholder `<nope>`"),
        );
        check(
            "<prefix.example.com",
            &[],
            Err("unclosed `<`: a placeholder is written `<name>`"),
        );
        check(
            "a..<prefix>.com",
            &[],
            Err(
                "invalid host pattern: empty label: two dots in a row, or a dot at the start (at character 3)",
            ),
        );
        check(
            "<prefix>.com",
            &[("prefix", "a.b c")],
            Err(
                "`a.b c.com` is not a valid host pattern: character ' ' is not allowed in a host name (letters, digits, '-' and '.') (at character 4)",
            ),
        );
    }
}

//! Reading TOML with positions: every syntax error at once, then each table
//! of an array deserialized on its own so that one bad entry does not hide
//! the problems of the next.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diagnostic::{FileProblems, Problem, Problems, SourceFile, did_you_mean};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Parses a document, reporting every syntax error the parser can recover
/// from.
pub(crate) fn parse(file: &SourceFile) -> Result<DeTable<'_>, FileProblems> {
    let (root, errors) = DeTable::parse_recoverable(&file.text);
    let mut problems = Problems::default();
    for error in errors {
        problems.push(to_problem(&error, 0..0));
    }
    problems.into_result(file, root.into_inner())
}

/// The top-level entries by key; a key not in `known` is reported.
pub(crate) fn top_level<'i>(
    root: DeTable<'i>,
    known: &[&'static str],
    problems: &mut Problems,
) -> BTreeMap<&'static str, Value<'i>> {
    let mut out = BTreeMap::new();
    for (key, value) in root {
        match known.iter().find(|k| **k == key.get_ref().as_ref()) {
            Some(k) => {
                out.insert(*k, value);
            }
            None => {
                let mut problem = Problem::new(
                    key.span(),
                    format!(
                        "unknown key `{}`; expected one of {}",
                        key.get_ref(),
                        known
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                if let Some(k) = did_you_mean(key.get_ref(), known.iter().copied()) {
                    problem = problem.with_help(format!("did you mean `{k}`?"));
                }
                problems.push(problem);
            }
        }
    }
    out
}

/// The tables of an array of tables (`[[name]]`), each still a raw value.
pub(crate) fn array_of_tables<'i>(
    key: &str,
    value: Value<'i>,
    problems: &mut Problems,
) -> Vec<Value<'i>> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => items.into_iter().collect(),
        other => {
            problems.push(
                Problem::new(
                    span,
                    format!(
                        "`{key}` must be an array of tables, found {}",
                        other.type_str()
                    ),
                )
                .with_help(format!("write each entry as a `[[{key}]]` table")),
            );
            Vec::new()
        }
    }
}

/// Deserializes one value into its serde type, reporting the first problem
/// in it (an unknown key, a wrong type, a missing field) with its place.
pub(crate) fn deserialize<T: DeserializeOwned>(
    value: Value<'_>,
    problems: &mut Problems,
) -> Option<T> {
    let span = value.span();
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(v) => Some(v),
        Err(error) => {
            problems.push(to_problem(&error, span));
            None
        }
    }
}

/// Deserializes a table whose struct has only optional fields, reporting a
/// problem in every key rather than only the first: each key is first
/// deserialized on its own; the keys that fail are reported and left out, so
/// that the caller can go on to check the rest.
pub(crate) fn deserialize_each_key<T: DeserializeOwned>(
    root: DeTable<'_>,
    span: std::ops::Range<usize>,
    problems: &mut Problems,
) -> Option<T> {
    let mut failed = Vec::new();
    for (key, value) in root.iter() {
        let mut single = DeTable::new();
        single.insert(key.clone(), value.clone());
        let one = Spanned::new(value.span(), DeValue::Table(single));
        if deserialize::<T>(one, problems).is_none() {
            failed.push(key.get_ref().clone());
        }
    }
    let rest: DeTable<'_> = root
        .into_iter()
        .filter(|(key, _)| !failed.contains(key.get_ref()))
        .collect();
    deserialize(Spanned::new(span, DeValue::Table(rest)), problems)
}

fn to_problem(error: &toml::de::Error, fallback: std::ops::Range<usize>) -> Problem {
    let span = error.span().unwrap_or(fallback);
    let message = error.message().trim().to_owned();
    let help = if message.starts_with("unknown field") {
        Some("remove the key or fix its spelling; see docs/catalog-format.md and docs/profile-format.md".to_owned())
    } else if message.starts_with("missing field") {
        Some("add the field to this table".to_owned())
    } else {
        None
    };
    Problem {
        span,
        message,
        help,
    }
}

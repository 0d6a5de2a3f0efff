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
        problems.push(to_problem(&error, 0..0, None, ""));
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
    deserialize_key(value, None, problems)
}

/// As [`deserialize`], for the value of `key`: its problems name the key.
fn deserialize_key<T: DeserializeOwned>(
    value: Value<'_>,
    key: Option<&str>,
    problems: &mut Problems,
) -> Option<T> {
    let span = value.span();
    match T::deserialize(ValueDeserializer::from(value)) {
        Ok(v) => Some(v),
        Err(error) => {
            let doc = problems.doc();
            // The key names the problem only when it is its value's own, not
            // a nested table's.
            let key = key.filter(|_| error.span().is_none_or(|at| at == span));
            problems.push(to_problem(&error, span, key, doc));
            None
        }
    }
}

/// Deserializes a table, reporting a problem in every key rather than only
/// the first: each key is first read on its own; the keys that fail (an
/// unknown key, a wrong type) are reported and left out, and the rest is
/// read so that the caller can go on to check it. The serde types make
/// every key optional, so that the caller can report each missing one
/// ([`Problems::require`]) rather than serde the first.
pub(crate) fn deserialize_table<T: DeserializeOwned>(
    value: Value<'_>,
    problems: &mut Problems,
) -> Option<Spanned<T>> {
    let span = value.span();
    let DeValue::Table(table) = value.get_ref() else {
        return deserialize(value, problems).map(|t| Spanned::new(span, t));
    };
    let mut rest = DeTable::new();
    for (key, v) in table.iter() {
        let mut single = DeTable::new();
        single.insert(key.clone(), v.clone());
        let one = Spanned::new(v.span(), DeValue::Table(single));
        if deserialize_key::<T>(one, Some(key.get_ref()), problems).is_some() {
            rest.insert(key.clone(), v.clone());
        } else {
            problems.unreadable(&span, key.get_ref());
        }
    }
    deserialize(Spanned::new(span.clone(), DeValue::Table(rest)), problems)
        .map(|t| Spanned::new(span, t))
}

/// A deserialization error in the user's words: a number written in quotes
/// or out of range names the key and what to write; an unknown key points
/// to the format's documentation (`doc`).
fn to_problem(
    error: &toml::de::Error,
    fallback: std::ops::Range<usize>,
    key: Option<&str>,
    doc: &str,
) -> Problem {
    let span = error.span().unwrap_or(fallback);
    let message = error.message().trim().to_owned();
    let expected_number = |m: &str| {
        ["u8", "u16", "u32", "u64", "i64", "an integer"]
            .iter()
            .any(|t| m.ends_with(&format!("expected {t}")))
    };
    let range = |m: &str| match m.rsplit("expected ").next() {
        Some("u8") => Some("255"),
        Some("u16") => Some("65535"),
        Some("u32") => Some("4294967295"),
        _ => None,
    };
    let (message, help) = match key {
        Some(key) if message.starts_with("invalid type: string") && expected_number(&message) => {
            let written = message.split('"').nth(1).unwrap_or("").to_owned();
            (
                format!("`{key}` must be a number, without quotes"),
                Some(format!("write `{key} = {written}`")),
            )
        }
        Some(key)
            if message.starts_with("invalid type: string")
                && message.ends_with("expected a TOML datetime") =>
        {
            let written = message.split('"').nth(1).unwrap_or("2021-03-02").to_owned();
            (
                format!("`{key}` must be a date, without quotes"),
                Some(format!("write `{key} = {written}`")),
            )
        }
        Some(key) if message.starts_with("invalid value: integer") && range(&message).is_some() => {
            (
                format!(
                    "`{key}` must be a whole number no larger than {}",
                    range(&message).unwrap_or("")
                ),
                None,
            )
        }
        // `invalid type: integer `5`, expected a string`
        _ if message.starts_with("invalid type: ") => {
            let key = key.map_or("this value".to_owned(), |k| format!("`{k}`"));
            let rest = &message["invalid type: ".len()..];
            match rest.rsplit_once(", expected ") {
                Some((found, expected)) => {
                    // serde's names, in TOML's words.
                    let toml_words =
                        |t: &str| t.replace("sequence", "list").replace("map", "table");
                    let (expected, found) = (toml_words(expected), toml_words(found));
                    (format!("{key} must be {expected}, not {found}"), None)
                }
                None => (format!("{key}: {message}"), None),
            }
        }
        _ if message.starts_with("unknown field") => (
            message,
            Some(format!("remove the key or fix its spelling; see {doc}")),
        ),
        _ => (message, None),
    };
    Problem {
        span,
        message,
        help,
    }
}

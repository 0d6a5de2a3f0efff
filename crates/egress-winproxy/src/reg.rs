//! `reg export` files: what `regedit` and `reg export` write, UTF-16LE with
//! a byte order mark (`Windows Registry Editor Version 5.00`), or UTF-8
//! (with or without a mark, as an editor may save it), or the older
//! `REGEDIT4`. Keys in brackets; values `"name"=` (or `@=` for the default
//! value) followed by a string, `dword:`, `hex:` (binary), `hex(N):` or
//! `-`; long `hex` values continue on the next line after a `\`.

use std::fmt;

/// A value as the file writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    String(String),
    Dword(u32),
    /// `hex:`: REG_BINARY.
    Binary(Vec<u8>),
    /// `hex(N):`: any other type, by number.
    Other {
        kind: u32,
        data: Vec<u8>,
    },
    /// `-`: the value is deleted.
    Deleted,
}

/// A problem in a `.reg` file, at its line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for RegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Every problem in a file, one a line with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct RegErrors(pub Vec<RegError>);

/// A parsed `.reg` file: keys in order, each with its values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegFile {
    keys: Vec<(String, Vec<(String, RegValue)>)>,
}

/// The root key names `reg export` writes, with their short forms.
const ROOTS: &[(&str, &str)] = &[
    ("HKEY_LOCAL_MACHINE", "HKLM"),
    ("HKEY_CURRENT_USER", "HKCU"),
    ("HKEY_USERS", "HKU"),
    ("HKEY_CLASSES_ROOT", "HKCR"),
    ("HKEY_CURRENT_CONFIG", "HKCC"),
];

/// A key path with its root in long form, for comparison (Windows compares
/// key names case-insensitively).
fn normalized_key(path: &str) -> String {
    let path = path.trim().trim_matches('\\');
    let (root, rest) = path.split_once('\\').unwrap_or((path, ""));
    let root = ROOTS
        .iter()
        .find(|(long, short)| root.eq_ignore_ascii_case(long) || root.eq_ignore_ascii_case(short))
        .map_or(root, |(long, _)| long);
    format!("{root}\\{rest}").to_ascii_lowercase()
}

impl RegFile {
    /// Decodes and parses a file; every problem is reported, each with its
    /// line and column.
    pub fn parse(bytes: &[u8]) -> Result<RegFile, RegErrors> {
        let text = decode(bytes).map_err(|e| RegErrors(vec![e]))?;
        let mut file = RegFile::default();
        let mut errors = Vec::new();
        let mut lines = text.lines().enumerate().peekable();
        let mut header_seen = false;
        while let Some((n, first)) = lines.next() {
            // A `\` at the end continues the line.
            let mut line = first.trim_end().to_owned();
            while line.ends_with('\\') {
                line.pop();
                match lines.next() {
                    Some((_, next)) => line.push_str(next.trim()),
                    None => break,
                }
            }
            let at = |column: usize, message: String| RegError {
                line: n + 1,
                column,
                message,
            };
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.is_empty() || trimmed.starts_with(';') {
                continue;
            }
            if !header_seen {
                if trimmed == "Windows Registry Editor Version 5.00" || trimmed == "REGEDIT4" {
                    header_seen = true;
                    continue;
                }
                errors.push(at(1, "not a .reg file: the first line is not `Windows Registry Editor Version 5.00` (or `REGEDIT4`)".to_owned()));
                return Err(RegErrors(errors));
            }
            if let Some(key) = trimmed.strip_prefix('[') {
                match key.strip_suffix(']') {
                    Some(k) if !k.trim().is_empty() => {
                        let k = k.strip_prefix('-').unwrap_or(k);
                        file.keys.push((normalized_key(k), Vec::new()));
                    }
                    _ => errors.push(at(indent + 1, "a key line must end with `]`".to_owned())),
                }
                continue;
            }
            let Some((name, rest)) = value_name(trimmed) else {
                errors.push(at(
                    indent + 1,
                    "expected `\"name\"=value`, `@=value`, a `[key]` or a `;` comment".to_owned(),
                ));
                continue;
            };
            let value_column = indent + (trimmed.len() - rest.len()) + 1;
            let Some(rest) = rest.strip_prefix('=') else {
                errors.push(at(
                    value_column,
                    "expected `=` after the value name".to_owned(),
                ));
                continue;
            };
            match value(rest.trim()) {
                Ok(v) => match file.keys.last_mut() {
                    Some((_, values)) => values.push((name, v)),
                    None => errors.push(at(indent + 1, "a value before any `[key]`".to_owned())),
                },
                Err(e) => errors.push(at(value_column + 1, e)),
            }
        }
        if !header_seen {
            errors.push(RegError {
                line: 1,
                column: 1,
                message: "the file is empty".to_owned(),
            });
        }
        if errors.is_empty() {
            Ok(file)
        } else {
            Err(RegErrors(errors))
        }
    }

    /// The value `name` of `key` (`HKEY_LOCAL_MACHINE\...` or `HKLM\...`),
    /// the last one written if the file sets it more than once.
    pub fn value(&self, key: &str, name: &str) -> Option<&RegValue> {
        let key = normalized_key(key);
        self.keys
            .iter()
            .filter(|(k, _)| *k == key)
            .flat_map(|(_, values)| values)
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .next_back()
    }
}

/// The file's text, decoded as every text input is (egress-text).
fn decode(bytes: &[u8]) -> Result<String, RegError> {
    egress_text::decode(bytes)
        .map(|t| t.text)
        .map_err(|e| RegError {
            line: e.line,
            column: e.column,
            message: e.what,
        })
}

/// `"name"` (with `\\` and `\"` escapes) or `@`, and the rest of the line.
fn value_name(line: &str) -> Option<(String, &str)> {
    if let Some(rest) = line.strip_prefix('@') {
        return Some((String::new(), rest.trim_start()));
    }
    let (name, rest) = quoted(line)?;
    Some((name, rest.trim_start()))
}

/// A quoted string at the start of `text`, unescaped, and what follows.
fn quoted(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

fn value(text: &str) -> Result<RegValue, String> {
    if text == "-" {
        return Ok(RegValue::Deleted);
    }
    if text.starts_with('"') {
        let (s, rest) = quoted(text).ok_or("a string without its closing `\"`")?;
        if !rest.trim().is_empty() {
            return Err(format!("unexpected `{}` after the string", rest.trim()));
        }
        return Ok(RegValue::String(s));
    }
    let lower = text.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("dword:") {
        return match (hex.len(), u32::from_str_radix(hex, 16)) {
            (1..=8, Ok(v)) => Ok(RegValue::Dword(v)),
            _ => Err(format!("`dword:{hex}` is not 1 to 8 hexadecimal digits")),
        };
    }
    let (kind, bytes) = if let Some(b) = lower.strip_prefix("hex:") {
        (None, b)
    } else if let Some(rest) = lower.strip_prefix("hex(") {
        let (kind, b) = rest.split_once("):").ok_or("expected `hex(N):`")?;
        let kind = u32::from_str_radix(kind, 16)
            .map_err(|_| format!("`hex({kind})`: not a type number"))?;
        (Some(kind), b)
    } else {
        return Err(format!(
            "`{}` is not a value: expected a \"string\", dword:, hex: or -",
            text.chars().take(20).collect::<String>()
        ));
    };
    let mut data = Vec::new();
    for (i, byte) in bytes.split(',').map(str::trim).enumerate() {
        if byte.is_empty() && i == 0 {
            continue;
        }
        match (byte.len(), u8::from_str_radix(byte, 16)) {
            (1..=2, Ok(b)) => data.push(b),
            _ => {
                return Err(format!(
                    "byte {} `{byte}` is not two hexadecimal digits",
                    i + 1
                ));
            }
        }
    }
    Ok(match kind {
        None | Some(3) => RegValue::Binary(data),
        Some(kind) => RegValue::Other { kind, data },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\r\n\"WinHttpSettings\"=hex:28,00,00,00,00,00,00,\\\r\n  00,01,00,00,00\r\n\"Quoted \\\"name\\\"\"=\"a\\\\b\"\r\n@=dword:0000002a\r\n";

    fn utf16(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn reads_exports_in_either_encoding() {
        for bytes in [utf16(EXPORT), EXPORT.as_bytes().to_vec()] {
            let f = RegFile::parse(&bytes).unwrap();
            let key = "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections";
            assert_eq!(
                f.value(key, "winhttpsettings"),
                Some(&RegValue::Binary(vec![
                    0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0
                ]))
            );
            assert_eq!(
                f.value(key, "Quoted \"name\""),
                Some(&RegValue::String("a\\b".to_owned()))
            );
            assert_eq!(f.value(key, ""), Some(&RegValue::Dword(42)));
        }
    }

    #[track_caller]
    fn check_error(bytes: &[u8], expected: &str) {
        assert_eq!(RegFile::parse(bytes).unwrap_err().to_string(), expected);
    }

    #[test]
    fn bad_files_say_where() {
        check_error(b"", "1:1: the file is empty");
        check_error(
            b"hello\n",
            "1:1: not a .reg file: the first line is not `Windows Registry Editor Version 5.00` (or `REGEDIT4`)",
        );
        let save = egress_text::HOW_TO_SAVE;
        check_error(
            &utf16("REGEDIT4\n")[..7],
            "1:3: the UTF-16 text ends in half a character (an odd number of bytes): the file is cut short",
        );
        check_error(
            &[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00],
            &format!("1:1: the UTF-16 text has an unpaired surrogate 0xD800; {save}"),
        );
        check_error(
            b"REGEDIT4\n[HKLM\\X]\n\"a\"=hex:zz,01\n\"b\"=dword:123456789\n\"c\"\n[HKLM\n",
            "3:5: byte 1 `zz` is not two hexadecimal digits\n4:5: `dword:123456789` is not 1 to 8 hexadecimal digits\n5:4: expected `=` after the value name\n6:1: a key line must end with `]`",
        );
        check_error(
            b"REGEDIT4\n\"a\"=\"x\"\n",
            "2:1: a value before any `[key]`",
        );
    }
}

//! The one decoder of every text file egress reads (profiles, catalogs,
//! allowlists, logs, JSON answers, PAC files, registry exports): UTF-8
//! with or without a byte order mark, UTF-16 little- or big-endian with
//! one (what Notepad's "Unicode" and Windows PowerShell 5.1's `Out-File`
//! write), lines ended by LF or CRLF. Anything else is refused with what
//! the bytes look like and how to save the file as UTF-8.
//!
//! A whole file is decoded by [`decode`] (CRLF becomes LF, so every reader
//! sees one line ending and line numbers stay those of the file); a log
//! too large to hold is read through [`Reader`], which yields UTF-8.
//!
//! Depends on nothing of egress: it knows bytes and characters, not
//! formats.

use std::borrow::Cow;
use std::io::Read;

/// How a file's text was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 after the byte order mark EF BB BF.
    Utf8Bom,
    /// UTF-16 little-endian after the byte order mark FF FE.
    Utf16Le,
    /// UTF-16 big-endian after the byte order mark FE FF.
    Utf16Be,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with a byte order mark",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
        })
    }
}

impl Encoding {
    /// The encoding a byte order mark at the start of `bytes` names, and
    /// the mark's length (UTF-8 without a mark when there is none).
    pub fn sniff(bytes: &[u8]) -> (Encoding, usize) {
        match bytes {
            [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8Bom, 3),
            // FF FE 00 00 is UTF-32 LE's mark: left for `decode` to refuse.
            [0xFF, 0xFE, 0, 0, ..] => (Encoding::Utf8, 0),
            [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
            [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
            _ => (Encoding::Utf8, 0),
        }
    }
}

/// Bytes that are not text egress reads, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {what}")]
pub struct DecodeError {
    pub line: usize,
    /// In characters, from 1.
    pub column: usize,
    /// What the bytes are, what they look like, and how to save the file
    /// as text egress reads (for what is text).
    pub what: String,
}

/// Said with every refusal of what is text.
pub const HOW_TO_SAVE: &str = "save the file as UTF-8 (Notepad: Save As, Encoding \"UTF-8\"; Windows PowerShell 5.1, which reads the system code page: `Get-Content FILE | Set-Content -Encoding UTF8 NEW`) or as UTF-16 with a byte order mark";

/// A file's text, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// With LF line ends.
    pub text: String,
    pub encoding: Encoding,
}

/// Decodes a whole file's bytes. CRLF becomes LF; a lone CR stays (the
/// reader of each format decides what it means).
pub fn decode(bytes: &[u8]) -> Result<Text, DecodeError> {
    let (encoding, mark) = Encoding::sniff(bytes);
    let body = &bytes[mark..];
    let text = match encoding {
        Encoding::Utf8 | Encoding::Utf8Bom => utf8(body)?,
        Encoding::Utf16Le => utf16(body, u16::from_le_bytes)?,
        Encoding::Utf16Be => utf16(body, u16::from_be_bytes)?,
    };
    let text = match text.contains("\r\n") {
        true => text.replace("\r\n", "\n"),
        false => text.into_owned(),
    };
    Ok(Text { text, encoding })
}

/// Decodes a file whose own software reads bytes it cannot decode (a
/// PAC file: browsers and pacparser run one with a Latin-1 comment): as
/// [`decode`], but bytes that are not UTF-8 become U+FFFD, and the first
/// of them is returned to be said as a warning.
pub fn decode_lossy(bytes: &[u8]) -> (Text, Option<DecodeError>) {
    match decode(bytes) {
        Ok(text) => (text, None),
        Err(error) => {
            let (encoding, mark) = Encoding::sniff(bytes);
            let text = match encoding {
                Encoding::Utf16Le | Encoding::Utf16Be => {
                    let little = encoding == Encoding::Utf16Le;
                    let units = bytes[mark..].chunks_exact(2).map(|p| match little {
                        true => u16::from_le_bytes([p[0], p[1]]),
                        false => u16::from_be_bytes([p[0], p[1]]),
                    });
                    char::decode_utf16(units)
                        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                        .collect()
                }
                Encoding::Utf8 | Encoding::Utf8Bom => {
                    String::from_utf8_lossy(&bytes[mark..]).into_owned()
                }
            };
            let text = text.replace("\r\n", "\n");
            (Text { text, encoding }, Some(error))
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    if let [0xFF, 0xFE, 0, 0, ..] | [0, 0, 0xFE, 0xFF, ..] = bytes {
        return Err(DecodeError {
            line: 1,
            column: 1,
            what: format!(
                "UTF-32 (its byte order mark), which egress does not read; {HOW_TO_SAVE}"
            ),
        });
    }
    match std::str::from_utf8(bytes) {
        // A NUL is UTF-8, but no text file egress reads holds one: it is
        // UTF-16 without its mark, or not text.
        Ok(text) if text.contains('\0') => {
            let at = text.find('\0').unwrap_or_default();
            let (line, column) = line_column(&text[..at]);
            Err(DecodeError {
                line,
                column,
                what: format!("byte 0x00 is not text: {}", looks_like(bytes)),
            })
        }
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            // Valid up to here, so these are whole characters.
            let before = std::str::from_utf8(good).unwrap_or_default();
            let (line, column) = line_column(before);
            Err(DecodeError {
                line,
                column,
                what: format!(
                    "byte 0x{:02X} is not UTF-8: {}",
                    bytes[e.valid_up_to()],
                    looks_like(bytes)
                ),
            })
        }
    }
}

/// What bytes that are not UTF-8 look like, and what to do.
fn looks_like(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(4096)];
    let nul_at = |parity: usize| {
        head.iter()
            .enumerate()
            .filter(|(i, b)| i % 2 == parity && **b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    let half = head.len() / 4;
    let text = |looks: &str| format!("{looks}; {HOW_TO_SAVE}");
    if head.starts_with(&[0x1F, 0x8B]) {
        "the file is gzip-compressed; decompress it first".to_owned()
    } else if head.starts_with(b"PK\x03\x04") {
        "the file is a zip archive; extract it first".to_owned()
    } else if odd > half && even < half / 8 {
        text("it looks like UTF-16 LE without a byte order mark")
    } else if even > half && odd < half / 8 {
        text("it looks like UTF-16 BE without a byte order mark")
    } else if head.contains(&0) {
        "the file looks binary, not text".to_owned()
    } else {
        text("it looks like text in a legacy code page such as Windows-1252")
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<Cow<'_, str>, DecodeError> {
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(e) => {
                let (line, column) = line_column(&text);
                return Err(DecodeError {
                    line,
                    column,
                    what: format!(
                        "the UTF-16 text has an unpaired surrogate 0x{:04X}; {HOW_TO_SAVE}",
                        e.unpaired_surrogate()
                    ),
                });
            }
        }
    }
    if let Some(at) = text.find('\0') {
        let (line, column) = line_column(&text[..at]);
        return Err(DecodeError {
            line,
            column,
            what: "a NUL character is not text: the file looks binary".to_owned(),
        });
    }
    if bytes.len() % 2 == 1 {
        let (line, column) = line_column(&text);
        return Err(DecodeError {
            line,
            column,
            what: "the UTF-16 text ends in half a character (an odd number of bytes): the file is cut short".to_owned(),
        });
    }
    Ok(Cow::Owned(text))
}

/// The line and column (in characters) just after `before`.
fn line_column(before: &str) -> (usize, usize) {
    let line = before.matches('\n').count() + 1;
    let last = before.rsplit('\n').next().unwrap_or_default();
    (line, last.trim_end_matches('\r').chars().count() + 1)
}

/// A file that cannot be read or decoded, with its name.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {file}")]
    Io {
        file: String,
        #[source]
        error: std::io::Error,
    },
    #[error("{file}:{error}")]
    Decode { file: String, error: DecodeError },
}

/// Reads and decodes the file at `path`.
pub fn read(path: &std::path::Path) -> Result<Text, ReadError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        file: file.clone(),
        error,
    })?;
    decode(&bytes).map_err(|error| ReadError::Decode { file, error })
}

/// A stream of text (a log) in any encoding [`decode`] reads, yielding
/// UTF-8: a UTF-8 byte order mark is skipped and UTF-16 transcoded as it
/// is read, an unpaired surrogate becoming U+FFFD. Line ends are left as
/// they are, and bytes that are not UTF-8 pass through for the reader to
/// judge line by line.
#[derive(Debug)]
pub struct Reader<R> {
    inner: R,
    encoding: Option<Encoding>,
    /// Read but not yet passed on: the sniffed head, or UTF-8 transcoded
    /// from UTF-16.
    pending: Vec<u8>,
    start: usize,
    /// A UTF-16 code unit's first byte, when a read ended inside one.
    half: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            encoding: None,
            pending: Vec::new(),
            start: 0,
            half: None,
            high: None,
        }
    }

    /// The encoding found (sniffing the stream's first bytes if no read
    /// has yet).
    pub fn encoding(&mut self) -> std::io::Result<Encoding> {
        match self.encoding {
            Some(e) => Ok(e),
            None => self.sniff(),
        }
    }

    fn sniff(&mut self) -> std::io::Result<Encoding> {
        let mut head = [0u8; 4];
        let mut got = 0;
        while got < head.len() {
            match self.inner.read(&mut head[got..])? {
                0 => break,
                n => got += n,
            }
        }
        let (encoding, mark) = Encoding::sniff(&head[..got]);
        self.encoding = Some(encoding);
        match encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => self.pending.extend_from_slice(&head[mark..got]),
            Encoding::Utf16Le | Encoding::Utf16Be => self.transcode(&head[mark..got]),
        }
        Ok(encoding)
    }

    /// Appends `bytes` of UTF-16 to `pending` as UTF-8.
    fn transcode(&mut self, bytes: &[u8]) {
        let little = self.encoding == Some(Encoding::Utf16Le);
        let mut bytes = bytes.iter().copied();
        loop {
            let first = match self.half.take() {
                Some(b) => b,
                None => match bytes.next() {
                    Some(b) => b,
                    None => return,
                },
            };
            let Some(second) = bytes.next() else {
                self.half = Some(first);
                return;
            };
            let unit = match little {
                true => u16::from_le_bytes([first, second]),
                false => u16::from_be_bytes([first, second]),
            };
            let c = match (self.high.take(), unit) {
                (None, 0xD800..=0xDBFF) => {
                    self.high = Some(unit);
                    continue;
                }
                (Some(high), 0xDC00..=0xDFFF) => char::decode_utf16([high, unit])
                    .next()
                    .and_then(Result::ok)
                    .unwrap_or(char::REPLACEMENT_CHARACTER),
                (Some(_), 0xD800..=0xDBFF) => {
                    // The first high surrogate had no low half; this one
                    // may.
                    self.push(char::REPLACEMENT_CHARACTER);
                    self.high = Some(unit);
                    continue;
                }
                (Some(_), _) => {
                    self.push(char::REPLACEMENT_CHARACTER);
                    char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER)
                }
                (None, _) => char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
            };
            self.push(c);
        }
    }

    fn push(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.pending
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let encoding = self.encoding()?;
        loop {
            if self.start < self.pending.len() {
                let n = out.len().min(self.pending.len() - self.start);
                out[..n].copy_from_slice(&self.pending[self.start..self.start + n]);
                self.start += n;
                if self.start == self.pending.len() {
                    self.pending.clear();
                    self.start = 0;
                }
                return Ok(n);
            }
            if matches!(encoding, Encoding::Utf8 | Encoding::Utf8Bom) {
                return self.inner.read(out);
            }
            let mut buf = [0u8; 16 * 1024];
            let n = self.inner.read(&mut buf)?;
            if n == 0 {
                // A surrogate or half a unit left at the end.
                if self.high.take().is_some() || self.half.take().is_some() {
                    self.push(char::REPLACEMENT_CHARACTER);
                    continue;
                }
                return Ok(0);
            }
            self.transcode(&buf[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        text.encode_utf16()
            .for_each(|u| out.extend(u.to_le_bytes()));
        out
    }

    fn utf16be(text: &str) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF];
        text.encode_utf16()
            .for_each(|u| out.extend(u.to_be_bytes()));
        out
    }

    #[track_caller]
    fn check(bytes: &[u8], expected: Result<(&str, Encoding), &str>) {
        let got = decode(bytes)
            .map(|t| (t.text, t.encoding))
            .map_err(|e| e.to_string());
        match expected {
            Ok((text, encoding)) => assert_eq!(got, Ok((text.to_owned(), encoding))),
            Err(message) => {
                let got = got.unwrap_err();
                assert!(got.starts_with(message), "{got}");
            }
        }
        // The stream reader agrees wherever the whole-file decoder reads
        // the text (up to line ends, which it leaves).
        if let Ok((text, _)) = expected {
            let mut streamed = String::new();
            Reader::new(bytes).read_to_string(&mut streamed).unwrap();
            assert_eq!(streamed.replace("\r\n", "\n"), text);
        }
    }

    #[test]
    fn encodings() {
        use Encoding::*;
        check(b"a.example\n", Ok(("a.example\n", Utf8)));
        check(b"", Ok(("", Utf8)));
        check(b"\xEF\xBB\xBFa\r\nb\r\n", Ok(("a\nb\n", Utf8Bom)));
        check(b"a\rb", Ok(("a\rb", Utf8)));
        check(
            &utf16le("a.example\r\n\u{e9}t\u{e9}\r\n"),
            Ok(("a.example\n\u{e9}t\u{e9}\n", Utf16Le)),
        );
        check(&utf16be("x\r\n\u{1F600}"), Ok(("x\n\u{1F600}", Utf16Be)));
        check(&utf16le(""), Ok(("", Utf16Le)));
    }

    #[test]
    fn refusals_say_what_the_bytes_look_like() {
        assert!(decode(b"caf\xE9").unwrap_err().what.ends_with(HOW_TO_SAVE));
        check(
            b"ok\ncaf\xE9\n",
            Err("2:4: byte 0xE9 is not UTF-8: it looks like text in a legacy code page"),
        );
        let mut bare = utf16le("a.example\r\nb.example\r\n");
        bare.drain(..2);
        check(&bare, Err("1:2: byte 0x00 is not text"));
        assert!(
            decode(&bare)
                .unwrap_err()
                .what
                .contains("UTF-16 LE without a byte order mark")
        );
        check(
            b"\x1F\x8B\x08\x00\xFF",
            Err("1:2: byte 0x8B is not UTF-8: the file is gzip-compressed"),
        );
        check(b"\xFF\xFE\x00\x00a\x00\x00\x00", Err("1:1: UTF-32"));
        let mut odd = utf16le("ab");
        odd.push(b'c');
        check(&odd, Err("1:3: the UTF-16 text ends in half a character"));
        let mut lone = utf16le("a\n");
        lone.extend(0xD800u16.to_le_bytes());
        lone.extend(b"b\x00");
        check(
            &lone,
            Err("2:1: the UTF-16 text has an unpaired surrogate 0xD800"),
        );
    }

    #[test]
    fn lossy_decoding_replaces_what_is_not_utf8_and_says_where() {
        let (text, error) = decode_lossy(b"// caf\xE9\r\nfunction f() {}\r\n");
        assert_eq!(text.text, "// caf\u{FFFD}\nfunction f() {}\n");
        assert_eq!(error.map(|e| (e.line, e.column)), Some((1, 7)));
        let (text, error) = decode_lossy(&utf16le("a\r\n"));
        assert_eq!(
            (text.text.as_str(), text.encoding, error),
            ("a\n", Encoding::Utf16Le, None)
        );
    }

    #[test]
    fn the_stream_reader_reads_utf16_in_any_chunks() {
        let text = "line one\r\n\u{1F600} two\r\n".repeat(3000);
        let bytes = utf16le(&text);
        // A reader that hands out 3 bytes at a time splits units and
        // surrogate pairs.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len()).min(3);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut got = String::new();
        let mut reader = Reader::new(Trickle(&bytes));
        assert_eq!(reader.encoding().unwrap(), Encoding::Utf16Le);
        reader.read_to_string(&mut got).unwrap();
        assert_eq!(got, text);
        let mut lone = utf16be("a");
        lone.extend(0xDC00u16.to_be_bytes());
        let mut got = String::new();
        Reader::new(&lone[..]).read_to_string(&mut got).unwrap();
        assert_eq!(got, "a\u{FFFD}");
        // A high surrogate without its low half, then a whole pair.
        let mut twice = utf16le("a");
        twice.extend(0xD83Du16.to_le_bytes());
        twice.extend(utf16le("\u{1F600}").split_off(2));
        let mut got = String::new();
        Reader::new(&twice[..]).read_to_string(&mut got).unwrap();
        assert_eq!(got, "a\u{FFFD}\u{1F600}");
    }
}

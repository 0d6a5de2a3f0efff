//! Request framing, read strictly before the HTTP parser reads it.
//!
//! hyper accepts what RFC 9112 lets a server accept: a bare LF as a line
//! end, a request with both `Content-Length` and `Transfer-Encoding`
//! (framed by the chunked encoding, the length dropped), the same
//! `Content-Length` twice. A proxy that accepts them may frame a request
//! differently from a server behind it or a proxy in front of it, which
//! is how requests are smuggled past a policy. [`Scanner`] watches the
//! bytes a client sends on one connection, holds each request head back
//! until it is whole, and refuses the head that is ambiguous; what it lets
//! through is framed the same way by any parser.

/// Why a request head is refused (the proxy answers 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("a line of the request head ends in a bare LF; HTTP/1.1 lines end in CRLF")]
    BareLf,
    #[error(
        "a header line starts with a space or a tab (obsolete line folding); send each header on one line"
    )]
    ObsFold,
    #[error(
        "the request has both Content-Length and Transfer-Encoding, so its length is ambiguous; send one"
    )]
    LengthAndEncoding,
    #[error("the request has more than one Content-Length; send one")]
    DuplicateLength,
    #[error("Content-Length `{0}` is not a number of bytes")]
    BadLength(String),
    #[error("Transfer-Encoding `{0}` does not end with chunked, so the request has no length")]
    NotChunked(String),
    #[error("a header line has no colon")]
    NoColon,
}

/// A head longer than this is passed on unread: the HTTP parser refuses it
/// (431) on its own limit, which is lower.
const MAX_HEAD: usize = 64 * 1024;

/// Where a client's byte stream is.
#[derive(Debug)]
enum State {
    /// In a request head, held in `Scanner::head` until it is whole.
    Head,
    /// In a body of this many more bytes.
    Body(u64),
    /// In a chunked body.
    Chunked(Chunk),
    /// Past a CONNECT head (the connection becomes a tunnel) or a head
    /// too long to judge: the bytes are not requests any more.
    Through,
}

#[derive(Debug)]
enum Chunk {
    /// The chunk-size line: the size so far (`None`: not a hex number),
    /// and whether an extension (`;name=value`) began.
    Size { size: Option<u64>, ext: bool },
    /// This many more bytes of chunk data.
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd,
    /// The trailer section; `empty`: the current line has no bytes yet.
    Trailer { empty: bool },
}

/// Watches one client connection's bytes (see the module).
#[derive(Debug)]
pub struct Scanner {
    state: State,
    head: Vec<u8>,
    /// Where the current line of `head` starts.
    line_start: usize,
    /// Whether `head` holds the request line.
    request_line: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner {
            state: State::Head,
            head: Vec::new(),
            line_start: 0,
            request_line: false,
        }
    }

    /// Whether the connection has become a tunnel (or is past judging):
    /// its bytes may bypass [`Scanner::feed`].
    pub fn is_through(&self) -> bool {
        matches!(self.state, State::Through)
    }

    /// Takes the client's next `bytes` and appends to `out` what may go
    /// on to the HTTP parser: body bytes as they come, a head once it is
    /// whole and well formed. On an error, `out` holds everything before
    /// the refused head, and nothing after it should be read.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) -> Result<(), Malformed> {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Through => {
                    out.extend_from_slice(bytes);
                    return Ok(());
                }
                State::Body(left) => {
                    let n = (*left).min(bytes.len() as u64) as usize;
                    out.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::Head;
                    }
                }
                State::Chunked(chunk) => {
                    let n = scan_chunked(chunk, bytes);
                    out.extend_from_slice(&bytes[..n.used]);
                    bytes = &bytes[n.used..];
                    if n.ended {
                        self.state = State::Head;
                    }
                }
                State::Head => {
                    let (used, whole) = self.take_head(bytes);
                    bytes = &bytes[used..];
                    if self.head.len() > MAX_HEAD {
                        out.append(&mut self.head);
                        self.line_start = 0;
                        self.state = State::Through;
                    } else if whole {
                        let head = std::mem::take(&mut self.head);
                        self.state = next_state(&head)?;
                        out.extend_from_slice(&head);
                    }
                }
            }
        }
        Ok(())
    }

    /// Moves bytes into the held head up to its end (the empty line after
    /// the request line); returns how many it took and whether the head
    /// is whole. Empty lines before the request line belong to it (RFC
    /// 9112, 2.2: a server ignores them).
    fn take_head(&mut self, bytes: &[u8]) -> (usize, bool) {
        for (i, &b) in bytes.iter().enumerate() {
            self.head.push(b);
            if b != b'\n' {
                continue;
            }
            let line = &self.head[self.line_start..self.head.len() - 1];
            let empty = line.is_empty() || line == b"\r";
            self.line_start = self.head.len();
            if !empty {
                self.request_line = true;
            } else if self.request_line {
                self.line_start = 0;
                self.request_line = false;
                return (i + 1, true);
            }
        }
        (bytes.len(), false)
    }
}

/// Where the bytes after a whole, well-formed `head` are.
fn next_state(head: &[u8]) -> Result<State, Malformed> {
    let mut lines: Vec<&[u8]> = head.split(|&c| c == b'\n').collect();
    // The last piece follows the final LF: empty.
    lines.pop();
    let mut request_line: Option<&[u8]> = None;
    let mut lengths: Vec<String> = Vec::new();
    let mut encodings: Vec<String> = Vec::new();
    for line in lines {
        let Some(line) = line.strip_suffix(b"\r") else {
            return Err(Malformed::BareLf);
        };
        if line.is_empty() {
            continue;
        }
        if request_line.is_none() {
            request_line = Some(line);
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Err(Malformed::ObsFold);
        }
        let colon = line
            .iter()
            .position(|&c| c == b':')
            .ok_or(Malformed::NoColon)?;
        let name = &line[..colon];
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_owned();
        if name.eq_ignore_ascii_case(b"content-length") {
            lengths.extend(value.split(',').map(|v| v.trim().to_owned()));
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            encodings.push(value);
        }
    }
    let method = request_line
        .and_then(|l| l.split(|&c| c == b' ').next())
        .unwrap_or_default();
    if !encodings.is_empty() && !lengths.is_empty() {
        return Err(Malformed::LengthAndEncoding);
    }
    if lengths.len() > 1 {
        return Err(Malformed::DuplicateLength);
    }
    if method == b"CONNECT" {
        return Ok(State::Through);
    }
    if !encodings.is_empty() {
        let all = encodings.join(", ");
        let last = all.rsplit(',').next().unwrap_or_default().trim();
        if !last.eq_ignore_ascii_case("chunked") {
            return Err(Malformed::NotChunked(all));
        }
        return Ok(State::Chunked(Chunk::Size {
            size: Some(0),
            ext: false,
        }));
    }
    match lengths.first() {
        None => Ok(State::Head),
        Some(text) => match text.parse::<u64>() {
            Ok(0) => Ok(State::Head),
            Ok(n) if text.bytes().all(|c| c.is_ascii_digit()) => Ok(State::Body(n)),
            _ => Err(Malformed::BadLength(text.clone())),
        },
    }
}

struct Scanned {
    used: usize,
    ended: bool,
}

/// Follows a chunked body through `bytes`: how many belong to it, and
/// whether it ended (after its trailer section). The parser behind judges
/// the chunk syntax; this only finds the end.
fn scan_chunked(chunk: &mut Chunk, bytes: &[u8]) -> Scanned {
    let mut i = 0;
    while i < bytes.len() {
        match chunk {
            Chunk::Data(left) => {
                let n = (*left).min((bytes.len() - i) as u64);
                i += n as usize;
                *left -= n;
                if *left == 0 {
                    *chunk = Chunk::DataEnd;
                }
                continue;
            }
            Chunk::Size { size, ext } => match bytes[i] {
                b'\n' => {
                    // A size that is not a number is the parser's to
                    // refuse; here it ends the body.
                    *chunk = match *size {
                        Some(0) | None => Chunk::Trailer { empty: true },
                        Some(n) => Chunk::Data(n),
                    };
                }
                b'\r' => {}
                _ if *ext => {}
                b';' | b' ' | b'\t' => *ext = true,
                b => match (b as char).to_digit(16) {
                    Some(d) => {
                        *size = size
                            .and_then(|n| n.checked_mul(16))
                            .and_then(|n| n.checked_add(u64::from(d)));
                    }
                    None => {
                        *size = None;
                        *ext = true;
                    }
                },
            },
            Chunk::DataEnd => {
                if bytes[i] == b'\n' {
                    *chunk = Chunk::Size {
                        size: Some(0),
                        ext: false,
                    };
                }
            }
            Chunk::Trailer { empty } => match bytes[i] {
                b'\n' if *empty => {
                    return Scanned {
                        used: i + 1,
                        ended: true,
                    };
                }
                b'\n' => *empty = true,
                b'\r' => {}
                _ => *empty = false,
            },
        }
        i += 1;
    }
    Scanned {
        used: bytes.len(),
        ended: false,
    }
}

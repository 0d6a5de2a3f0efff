//! The strict framing of request heads (`egress_gate::head`): what goes
//! on to the HTTP parser, and which heads are refused, whatever the
//! pieces the bytes arrive in.

use egress_gate::head::{Malformed, Scanner};
use proptest::prelude::*;

/// Feeds `input` in pieces of every size from 1 to its length: each
/// time, what goes on is `passed` and the result is `expected`.
#[track_caller]
fn check(input: &str, passed: &str, expected: Result<(), Malformed>) {
    for piece in 1..=input.len().max(1) {
        let mut scanner = Scanner::new();
        let mut out = Vec::new();
        let mut result = Ok(());
        for part in input.as_bytes().chunks(piece) {
            result = scanner.feed(part, &mut out);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, expected, "pieces of {piece}: {input:?}");
        assert_eq!(
            String::from_utf8_lossy(&out),
            passed,
            "pieces of {piece}: {input:?}"
        );
    }
}

const GET: &str = "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n";

#[test]
fn well_formed_requests_go_on_whole() {
    check(GET, GET, Ok(()));
    // Pipelined, with bodies by length and by chunks (an extension, a
    // trailer), and an empty line before a request line.
    let many = concat!(
        "POST http://a.example/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        "\r\nPUT http://a.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "5;name=v1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n",
        "GET http://a.example/ HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
    );
    check(many, many, Ok(()));
    // A CONNECT: what follows is the tunnel's, not requests.
    let tunnel = "CONNECT a.example:443 HTTP/1.1\r\n\r\n\x16\x03\x01 no head\n\n";
    check(tunnel, tunnel, Ok(()));
    // A head not yet whole is held back.
    check("GET http://a.example/ HTTP/1.1\r\nHost: a", "", Ok(()));
}

#[test]
fn ambiguous_heads_are_refused_after_what_came_before() {
    let cases = [
        ("GET / HTTP/1.1\nHost: a\r\n\r\n", Malformed::BareLf),
        ("GET / HTTP/1.1\r\nHost: a\n\n", Malformed::BareLf),
        (
            "GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n",
            Malformed::ObsFold,
        ),
        (
            "GET / HTTP/1.1\r\nX-A: 1\r\n\tfolded\r\n\r\n",
            Malformed::ObsFold,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            Malformed::LengthAndEncoding,
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\ncontent-length: 3\r\n\r\n",
            Malformed::LengthAndEncoding,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
            Malformed::DuplicateLength,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n",
            Malformed::DuplicateLength,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
            Malformed::BadLength("+3".into()),
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            Malformed::NotChunked("chunked, gzip".into()),
        ),
        (
            "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
            Malformed::NoColon,
        ),
    ];
    for (head, why) in cases {
        check(head, "", Err(why.clone()));
        // After a good request (and its body), the good one goes on.
        let first = "POST http://a.example/ HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
        check(&format!("{first}{head}"), first, Err(why));
    }
    // A smuggled request inside a body is body, not a head.
    let hidden = "POST / HTTP/1.1\r\nContent-Length: 26\r\n\r\nGET / HTTP/1.1\nBare: lf\n\n";
    check(hidden, hidden, Ok(()));
}

fn request() -> impl Strategy<Value = String> {
    let body = "[a-z\r\n]{0,40}";
    prop_oneof![
        Just(GET.to_owned()),
        body.prop_map(|b| format!(
            "POST http://a.example/ HTTP/1.1\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        )),
        prop::collection::vec(body, 0..4).prop_map(|chunks| {
            let mut r =
                "POST http://a.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned();
            for c in chunks.iter().filter(|c| !c.is_empty()) {
                r.push_str(&format!("{:x}\r\n{c}\r\n", c.len()));
            }
            r.push_str("0\r\n\r\n");
            r
        }),
    ]
}

proptest! {
    /// Any sequence of well-formed requests goes on unchanged, whatever
    /// pieces it arrives in.
    #[test]
    fn well_formed_streams_pass_unchanged(
        requests in prop::collection::vec(request(), 1..5),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let input = requests.concat();
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        at.push(0);
        at.push(input.len());
        at.sort_unstable();
        let mut scanner = Scanner::new();
        let mut out = Vec::new();
        for w in at.windows(2) {
            scanner.feed(&input.as_bytes()[w[0]..w[1]], &mut out).unwrap();
        }
        prop_assert_eq!(String::from_utf8_lossy(&out), input);
    }
}

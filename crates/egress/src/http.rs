//! What `serve` and `proxy` share as HTTP servers.

use hyper::Request;

/// The size of a request's head as sent: the request line and every
/// header line. hyper's buffer limit bounds memory but lets a head that
/// arrives in one read through; this is the exact limit.
pub fn head_size<B>(request: &Request<B>) -> usize {
    let line = request.method().as_str().len() + request.uri().to_string().len() + 12;
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + line
}

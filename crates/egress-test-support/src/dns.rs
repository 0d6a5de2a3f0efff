//! A DNS server on loopback (UDP), answering as the test says: for
//! `--dns-server`, and for resolvers that change their answer.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;

use hickory_proto::op::{Message, ResponseCode};
pub use hickory_proto::rr::RecordType;
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record};

/// What the server does with one query.
#[derive(Debug, Clone)]
pub enum Reply {
    /// These addresses (the A ones to A queries, the AAAA ones to AAAA
    /// queries; none of a type: an empty answer).
    Addresses(Vec<IpAddr>),
    /// NXDOMAIN: the name does not exist.
    NoSuchName,
    Refuse,
    /// No answer at all.
    Silent,
}

/// A running DNS server: its address, and the queries it got (name
/// without the final dot, type).
#[derive(Debug, Clone)]
pub struct DnsServer {
    pub address: SocketAddr,
    queries: Arc<Mutex<Vec<(String, RecordType)>>>,
}

impl DnsServer {
    /// Starts a server on 127.0.0.1 that answers each query with
    /// `answer(name, type, n)`, `n` counting the earlier queries of that
    /// name and type.
    pub fn start(answer: impl Fn(&str, RecordType, usize) -> Reply + Send + 'static) -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a loopback UDP port");
        let address = socket.local_addr().expect("a bound address");
        let queries: Arc<Mutex<Vec<(String, RecordType)>>> = Arc::default();
        let seen = queries.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    return;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
                reply.metadata.recursion_desired = query.metadata.recursion_desired;
                reply.metadata.recursion_available = true;
                let mut silent = false;
                for q in &query.queries {
                    reply.add_query(q.clone());
                    let name = q.name().to_string().trim_end_matches('.').to_owned();
                    let kind = q.query_type();
                    let n = {
                        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                        let n = seen
                            .iter()
                            .filter(|(s, k)| *s == name && *k == kind)
                            .count();
                        seen.push((name.clone(), kind));
                        n
                    };
                    match answer(&name, kind, n) {
                        Reply::Silent => silent = true,
                        Reply::Refuse => reply.metadata.response_code = ResponseCode::Refused,
                        Reply::NoSuchName => {
                            reply.metadata.response_code = ResponseCode::NXDomain;
                        }
                        Reply::Addresses(ips) => {
                            for ip in ips {
                                let data = match (ip, kind) {
                                    (IpAddr::V4(v4), RecordType::A) => RData::A(A(v4)),
                                    (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(v6)),
                                    _ => continue,
                                };
                                reply.add_answer(Record::from_rdata(q.name().clone(), 0, data));
                            }
                        }
                    }
                }
                if silent {
                    continue;
                }
                if let Ok(bytes) = reply.to_vec() {
                    let _ = socket.send_to(&bytes, peer);
                }
            }
        });
        DnsServer { address, queries }
    }

    /// The queries of `name` of type `kind` so far.
    pub fn queries(&self, name: &str, kind: RecordType) -> usize {
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(n, k)| n == name && *k == kind)
            .count()
    }
}

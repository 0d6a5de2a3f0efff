//! Basic authentication of the proxy's clients (docs/proxy.md): the users
//! of the profile's `[[proxy_client]]` tables and the argon2 hashes of
//! their passwords. A verified `Proxy-Authorization` value is remembered
//! by a keyed hash of it (never the value), so a client's every request
//! does not cost an argon2 verification; a reload starts afresh.

use std::collections::HashMap;
use std::hash::BuildHasher as _;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use base64::Engine as _;
use egress_catalog::profile::ProxyClient;

/// Verified credentials remembered at most; then the memory starts afresh.
const REMEMBERED: usize = 4096;

#[derive(Debug)]
pub struct Clients {
    /// User, and the PHC string of their password's hash.
    users: Vec<(String, String)>,
    /// Keyed hashes of verified `Proxy-Authorization` values, and whose.
    verified: Mutex<HashMap<u64, String>>,
    keys: std::collections::hash_map::RandomState,
}

/// Why a request carries no valid credentials (the proxy answers 407).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Missing,
    NotBasic,
    Wrong,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Missing => "the proxy requires authentication (Basic); the request has none",
            Refused::NotBasic => "the proxy takes Basic authentication only",
            Refused::Wrong => "unknown user or wrong password",
        }
    }
}

impl Clients {
    /// The profile's clients; an error names each hash that argon2 cannot
    /// read.
    pub fn new(clients: &[ProxyClient]) -> Result<Clients, String> {
        let mut problems = Vec::new();
        for c in clients {
            if let Err(e) = PasswordHash::new(&c.password_hash.value) {
                problems.push(format!(
                    "[[proxy_client]] `{}`: password_hash is not a valid argon2 hash: {e}",
                    c.user.value
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        Ok(Clients {
            users: clients
                .iter()
                .map(|c| (c.user.value.clone(), c.password_hash.value.clone()))
                .collect(),
            verified: Mutex::new(HashMap::new()),
            keys: Default::default(),
        })
    }

    /// How many users may authenticate; none: clients do not.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    /// The user a `Proxy-Authorization` value proves, or why not. The
    /// argon2 verification runs on a blocking thread.
    pub async fn check(self: &Arc<Self>, header: Option<&[u8]>) -> Result<String, Refused> {
        let header = header.ok_or(Refused::Missing)?;
        let key = self.keys.hash_one(header);
        if let Some(user) = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(user.clone());
        }
        let text = std::str::from_utf8(header).map_err(|_| Refused::NotBasic)?;
        let (scheme, token) = text.trim().split_once(' ').ok_or(Refused::NotBasic)?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(Refused::NotBasic);
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .map_err(|_| Refused::Wrong)?;
        let decoded = String::from_utf8(decoded).map_err(|_| Refused::Wrong)?;
        let (user, password) = decoded.split_once(':').ok_or(Refused::Wrong)?;
        let Some((user, hash)) = self.users.iter().find(|(u, _)| u == user).cloned() else {
            return Err(Refused::Wrong);
        };
        let password = password.to_owned();
        let good = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|hash| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await
        .unwrap_or(false);
        if !good {
            return Err(Refused::Wrong);
        }
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= REMEMBERED {
            verified.clear();
        }
        verified.insert(key, user.clone());
        Ok(user)
    }
}

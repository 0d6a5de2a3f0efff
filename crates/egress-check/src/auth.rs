//! Authenticating to a proxy (or to a server that answers 401): the
//! challenges it offers (`Proxy-Authenticate`), the scheme egress picks,
//! and the messages of each leg: Basic, NTLMv2 with explicit credentials
//! (the `sspi` crate, on every platform), and on Windows NTLM or Negotiate
//! as the logon identity through the system's SSPI (`egress-sspi`).
//!
//! Nothing here ever formats a password: [`Credentials`] prints as the
//! user alone, and every error names the scheme and the leg, not the
//! message.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;

pub mod ntlm;

/// How egress authenticates to a proxy (`--proxy-auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// The strongest scheme the proxy offers that egress can use.
    #[default]
    Auto,
    Basic,
    Ntlm,
    Negotiate,
    /// Never authenticate: a 407 is reported as it is.
    None,
}

impl AuthMode {
    /// The values `--proxy-auth` takes.
    pub const NAMES: [&'static str; 5] = ["auto", "basic", "ntlm", "negotiate", "none"];

    /// The scheme this mode insists on, if it names one.
    pub fn scheme(self) -> Option<Scheme> {
        match self {
            AuthMode::Basic => Some(Scheme::Basic),
            AuthMode::Ntlm => Some(Scheme::Ntlm),
            AuthMode::Negotiate => Some(Scheme::Negotiate),
            AuthMode::Auto | AuthMode::None => None,
        }
    }
}

impl FromStr for AuthMode {
    type Err = AuthInputError;

    fn from_str(s: &str) -> Result<AuthMode, AuthInputError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => AuthMode::Auto,
            "basic" => AuthMode::Basic,
            "ntlm" => AuthMode::Ntlm,
            "negotiate" => AuthMode::Negotiate,
            "none" => AuthMode::None,
            _ => return Err(AuthInputError::UnknownMode(s.to_owned())),
        })
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMode::Auto => "auto",
            AuthMode::Basic => "basic",
            AuthMode::Ntlm => "ntlm",
            AuthMode::Negotiate => "negotiate",
            AuthMode::None => "none",
        })
    }
}

/// An authentication scheme egress speaks, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    Basic,
    Ntlm,
    Negotiate,
}

impl Scheme {
    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Basic => "Basic",
            Scheme::Ntlm => "NTLM",
            Scheme::Negotiate => "Negotiate",
        }
    }

    fn parse(name: &str) -> Option<Scheme> {
        [Scheme::Basic, Scheme::Ntlm, Scheme::Negotiate]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Whether the scheme takes more than one leg on one connection.
    pub fn connection_bound(self) -> bool {
        self != Scheme::Basic
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A user and password for a proxy. Its `Debug` shows the user only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// As given: `user`, `DOMAIN\user` or `user@domain`.
    pub user: String,
    pub password: String,
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, password hidden)", self.user)
    }
}

/// A user as NTLM names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// `DOMAIN\user`.
    DownLevel { domain: String, user: String },
    /// `user@domain`, sent whole with an empty domain, as Windows does.
    Principal(String),
}

/// The NTLM account of `user`, which must name its domain.
pub fn account(user: &str, scheme: Scheme) -> Result<Account, AuthInputError> {
    let no_domain = || AuthInputError::NoDomain {
        user: user.to_owned(),
        scheme,
    };
    if let Some((domain, name)) = user.split_once('\\') {
        if domain.is_empty() || name.is_empty() || name.contains('\\') {
            return Err(no_domain());
        }
        return Ok(Account::DownLevel {
            domain: domain.to_owned(),
            user: name.to_owned(),
        });
    }
    match user.split_once('@') {
        Some((name, domain)) if !name.is_empty() && !domain.is_empty() && !domain.contains('@') => {
            Ok(Account::Principal(user.to_owned()))
        }
        _ => Err(no_domain()),
    }
}

/// Who egress authenticates as.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    /// A user and password given to egress.
    Explicit(&'a Credentials),
    /// The account egress runs as, through the system's SSPI (Windows).
    Logon,
    /// Nobody: a 407 is reported as it is.
    Nobody,
}

impl Identity<'_> {
    /// Who `credentials` (or their absence) make egress: the logon
    /// identity on Windows, nobody elsewhere.
    pub fn of(credentials: Option<&Credentials>) -> Identity<'_> {
        match credentials {
            Some(c) => Identity::Explicit(c),
            None if cfg!(windows) => Identity::Logon,
            None => Identity::Nobody,
        }
    }

    /// Whether this identity can answer with `scheme`.
    pub fn can_use(self, scheme: Scheme) -> bool {
        match self {
            Identity::Explicit(_) => true,
            Identity::Logon => scheme != Scheme::Basic,
            Identity::Nobody => false,
        }
    }
}

/// What the user asked for that cannot work: exit 2, before any probe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthInputError {
    #[error("--proxy-auth `{0}`: expected auto, basic, ntlm, negotiate or none")]
    UnknownMode(String),
    #[error(
        "proxy user `{user}`: {scheme} needs the user's domain; write it DOMAIN\\user or user@domain.example"
    )]
    NoDomain { user: String, scheme: Scheme },
    #[error(
        "--proxy-auth {mode} needs credentials: give them in the proxy URL, the profile's [proxy] (user, password) or EGRESS_PROXY_USER and EGRESS_PROXY_PASSWORD{logon}"
    )]
    NoCredentials { mode: AuthMode, logon: &'static str },
}

/// Checks, before any probe, that `mode` can work with `credentials`:
/// Basic needs them; NTLM and Negotiate need them off Windows, and need
/// the user's domain.
pub fn validate(mode: AuthMode, credentials: Option<&Credentials>) -> Result<(), AuthInputError> {
    let Some(scheme) = mode.scheme() else {
        if mode == AuthMode::Auto
            && let Some(c) = credentials
            && (c.user.contains('\\') || c.user.contains('@'))
        {
            // A user with a domain is meant for NTLM: check its form.
            account(&c.user, Scheme::Ntlm)?;
        }
        return Ok(());
    };
    match (credentials, scheme) {
        (Some(c), Scheme::Ntlm | Scheme::Negotiate) => account(&c.user, scheme).map(|_| ()),
        (Some(_), Scheme::Basic) => Ok(()),
        (None, Scheme::Basic) => Err(AuthInputError::NoCredentials { mode, logon: "" }),
        (None, _) if cfg!(windows) => Ok(()),
        (None, _) => Err(AuthInputError::NoCredentials {
            mode,
            logon: " (the logon identity is used on Windows only)",
        }),
    }
}

/// One challenge of a `Proxy-Authenticate` (or `WWW-Authenticate`)
/// header: the scheme and, for NTLM and Negotiate, the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    /// The token68 after the scheme (NTLM's type-2 message), if any.
    pub token: Option<String>,
}

/// The challenges of the header values, in order (RFC 9110 section 11:
/// one header may hold several, comma-separated, each a scheme followed by
/// a token68 or by `name=value` parameters, which may be quoted).
pub fn challenges<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    for value in values {
        for element in split_list(value) {
            let element = element.trim();
            if element.is_empty() {
                continue;
            }
            let (first, rest) = match element.split_once([' ', '\t']) {
                Some((a, b)) => (a, b.trim()),
                None => (element, ""),
            };
            if first.contains('=') {
                // A parameter of the challenge before it.
                continue;
            }
            let token = (!rest.is_empty() && !rest.contains('=') || looks_like_token68(rest))
                .then(|| rest.to_owned());
            out.push(Challenge {
                scheme: first.to_owned(),
                token,
            });
        }
    }
    out
}

/// A token68 may end in `=` padding; parameters have `=` inside.
fn looks_like_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !s.is_empty()
        && !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Splits a header list at commas outside quoted strings.
fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// The schemes offered, by name as sent, once each.
pub fn offered(challenges: &[Challenge]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in challenges {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&c.scheme)) {
            names.push(c.scheme.clone());
        }
    }
    names
}

/// The scheme to answer `challenges` with. `auto` takes the strongest
/// offered that the identity can use: with explicit credentials NTLM
/// before Negotiate (egress then sends NTLM inside Negotiate, which
/// Kerberos-only helpers reject), with the logon identity Negotiate first.
pub fn choose(
    mode: AuthMode,
    challenges: &[Challenge],
    identity: Identity<'_>,
) -> Result<Scheme, AuthFailure> {
    let offered_schemes: Vec<Scheme> = challenges
        .iter()
        .filter_map(|c| Scheme::parse(&c.scheme))
        .collect();
    let no_scheme = || AuthFailure::NoScheme {
        offered: offered(challenges),
        mode,
    };
    match mode {
        AuthMode::None => Err(no_scheme()),
        AuthMode::Auto => {
            let order: &[Scheme] = match identity {
                Identity::Logon => &[Scheme::Negotiate, Scheme::Ntlm],
                _ => &[Scheme::Ntlm, Scheme::Negotiate, Scheme::Basic],
            };
            order
                .iter()
                .copied()
                .find(|s| offered_schemes.contains(s) && identity.can_use(*s))
                .ok_or_else(no_scheme)
        }
        _ => {
            let wanted = mode.scheme().expect("a mode that names a scheme");
            if offered_schemes.contains(&wanted) && identity.can_use(wanted) {
                Ok(wanted)
            } else {
                Err(no_scheme())
            }
        }
    }
}

/// Why authenticating to the proxy failed, as data. Never holds a
/// credential or a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No offered scheme is one egress can use with this identity (or the
    /// one `--proxy-auth` names is not offered).
    NoScheme {
        offered: Vec<String>,
        mode: AuthMode,
    },
    /// The proxy answered the last leg with 407 again: the credentials (or
    /// the account) were not accepted.
    Rejected { scheme: Scheme },
    /// The proxy closed the connection between the legs of a
    /// connection-bound scheme.
    ClosedBetweenLegs { scheme: Scheme },
    /// The proxy answered the first leg with no challenge to continue with.
    NoChallenge { scheme: Scheme },
    /// The proxy's challenge is not a well-formed message.
    BadChallenge { scheme: Scheme, detail: String },
    /// egress could not make the next message (the system's SSPI, or the
    /// NTLM library, refused).
    Local { scheme: Scheme, detail: String },
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthFailure::NoScheme { offered, mode } => {
                let offers = if offered.is_empty() {
                    "no scheme".to_owned()
                } else {
                    offered.join(", ")
                };
                match mode.scheme() {
                    Some(s) => write!(
                        f,
                        "--proxy-auth {mode}: the proxy does not offer {s} (it offers {offers})"
                    ),
                    None if *mode == AuthMode::None => {
                        write!(f, "--proxy-auth none, and the proxy offers {offers}")
                    }
                    None => write!(
                        f,
                        "no acceptable scheme: the proxy offers {offers}; egress speaks Basic, NTLM and Negotiate"
                    ),
                }
            }
            AuthFailure::Rejected { scheme } => write!(
                f,
                "the proxy rejected the {scheme} credentials (407 after the last leg): check the user, domain and password"
            ),
            AuthFailure::ClosedBetweenLegs { scheme } => write!(
                f,
                "the proxy closed the connection between the {scheme} legs ({scheme} needs one connection for the whole handshake: a load balancer or a proxy that closes after a 407 breaks it)"
            ),
            AuthFailure::NoChallenge { scheme } => write!(
                f,
                "the proxy answered the first {scheme} leg without a challenge to continue with"
            ),
            AuthFailure::BadChallenge { scheme, detail } => {
                write!(f, "the proxy's {scheme} challenge is malformed: {detail}")
            }
            AuthFailure::Local { scheme, detail } => {
                write!(f, "egress could not make the {scheme} message: {detail}")
            }
        }
    }
}

/// One authentication handshake, leg by leg.
pub struct Handshake {
    scheme: Scheme,
    state: State,
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handshake({})", self.scheme)
    }
}

enum State {
    /// The header, sent once.
    Basic(String),
    /// NTLM with explicit credentials, under the scheme's name.
    Ntlm(Box<ntlm::Client>),
    /// The system's SSPI as the logon identity.
    #[cfg(windows)]
    Logon(egress_sspi::Client),
}

impl Handshake {
    /// Starts `scheme` as `identity` towards `host` (the proxy's name, for
    /// the service principal `HTTP/host`); the first leg's header value.
    pub fn start(
        scheme: Scheme,
        identity: Identity<'_>,
        host: &str,
    ) -> Result<(Handshake, String), AuthFailure> {
        let local = |detail: String| AuthFailure::Local { scheme, detail };
        let (state, token) = match (scheme, identity) {
            (Scheme::Basic, Identity::Explicit(c)) => {
                let header = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{}:{}", c.user, c.password))
                );
                return Ok((
                    Handshake {
                        scheme,
                        state: State::Basic(header.clone()),
                    },
                    header,
                ));
            }
            (Scheme::Ntlm | Scheme::Negotiate, Identity::Explicit(c)) => {
                let account = account(&c.user, scheme).map_err(|e| local(e.to_string()))?;
                let (client, token) =
                    ntlm::Client::start(&account, &c.password, host).map_err(local)?;
                (State::Ntlm(Box::new(client)), token)
            }
            #[cfg(windows)]
            (Scheme::Ntlm | Scheme::Negotiate, Identity::Logon) => {
                let package = match scheme {
                    Scheme::Ntlm => egress_sspi::Package::Ntlm,
                    _ => egress_sspi::Package::Negotiate,
                };
                let (client, token) = egress_sspi::Client::start(package, &format!("HTTP/{host}"))
                    .map_err(|e| local(e.to_string()))?;
                (State::Logon(client), token)
            }
            _ => {
                return Err(local(format!(
                    "no identity to authenticate with {scheme}: give credentials"
                )));
            }
        };
        let header = format!(
            "{} {}",
            scheme.name(),
            base64::engine::general_purpose::STANDARD.encode(token)
        );
        Ok((Handshake { scheme, state }, header))
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether the handshake waits for a challenge (the first leg of NTLM
    /// or Negotiate has gone); Basic never does.
    pub fn awaits_challenge(&self) -> bool {
        match &self.state {
            State::Basic(_) => false,
            State::Ntlm(c) => !c.answered(),
            #[cfg(windows)]
            State::Logon(c) => !c.done(),
        }
    }

    /// The next leg's header value, answering the proxy's challenge
    /// `token` (base64, as it came).
    pub fn answer(&mut self, token: &str) -> Result<String, AuthFailure> {
        let scheme = self.scheme;
        let bad = |detail: String| AuthFailure::BadChallenge { scheme, detail };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .map_err(|e| bad(format!("not base64 ({e})")))?;
        let message = match &mut self.state {
            State::Basic(h) => return Ok(h.clone()),
            State::Ntlm(client) => client.answer(&bytes)?,
            #[cfg(windows)]
            State::Logon(client) => client.answer(&bytes).map_err(|e| AuthFailure::Local {
                scheme,
                detail: e.to_string(),
            })?,
        };
        Ok(format!(
            "{} {}",
            scheme.name(),
            base64::engine::general_purpose::STANDARD.encode(message)
        ))
    }
}

/// The token of the challenge for `scheme` among `challenges`: `None` when
/// the scheme is not offered at all, `Some(None)` when it is offered bare.
pub fn token_for(challenges: &[Challenge], scheme: Scheme) -> Option<Option<&str>> {
    let mut found = false;
    for c in challenges {
        if c.scheme.eq_ignore_ascii_case(scheme.name()) {
            found = true;
            if let Some(t) = &c.token {
                return Some(Some(t));
            }
        }
    }
    found.then_some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[&str], expected: &[(&str, Option<&str>)]) {
        let got = challenges(values.iter().copied());
        let got: Vec<(&str, Option<&str>)> = got
            .iter()
            .map(|c| (c.scheme.as_str(), c.token.as_deref()))
            .collect();
        assert_eq!(got, expected, "{values:?}");
    }

    #[test]
    fn challenges_are_read_as_rfc_9110_lists() {
        check(&["NTLM"], &[("NTLM", None)]);
        check(
            &["NTLM TlRMTVNTUAACAAAA"],
            &[("NTLM", Some("TlRMTVNTUAACAAAA"))],
        );
        check(&["Negotiate YII="], &[("Negotiate", Some("YII="))]);
        check(
            &["Basic realm=\"Squid, proxy\", NTLM", "Negotiate"],
            &[("Basic", None), ("NTLM", None), ("Negotiate", None)],
        );
        check(
            &["Digest realm=\"x\", qop=\"auth\", nonce=\"a,b\", Basic realm=x"],
            &[("Digest", None), ("Basic", None)],
        );
        check(&["", " , "], &[]);
    }

    #[test]
    fn auto_picks_the_strongest_usable_scheme() {
        let c = Credentials::new("CONTOSO\\alice", "pw");
        let both = challenges(["Basic realm=\"x\"", "NTLM"]);
        let explicit = Identity::Explicit(&c);
        assert_eq!(choose(AuthMode::Auto, &both, explicit), Ok(Scheme::Ntlm));
        assert_eq!(choose(AuthMode::Basic, &both, explicit), Ok(Scheme::Basic));
        let all = challenges(["Negotiate", "NTLM", "Basic realm=x"]);
        assert_eq!(choose(AuthMode::Auto, &all, explicit), Ok(Scheme::Ntlm));
        assert_eq!(
            choose(AuthMode::Auto, &all, Identity::Logon),
            Ok(Scheme::Negotiate)
        );
        let basic = challenges(["Basic realm=x"]);
        assert_eq!(
            choose(AuthMode::Auto, &basic, Identity::Logon),
            Err(AuthFailure::NoScheme {
                offered: vec!["Basic".into()],
                mode: AuthMode::Auto
            })
        );
        assert!(choose(AuthMode::Ntlm, &basic, explicit).is_err());
        let digest = challenges(["Digest realm=x"]);
        let e = choose(AuthMode::Auto, &digest, explicit).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no acceptable scheme: the proxy offers Digest; egress speaks Basic, NTLM and Negotiate"
        );
    }

    #[test]
    fn ntlm_users_name_their_domain() {
        assert_eq!(
            account("CONTOSO\\alice", Scheme::Ntlm),
            Ok(Account::DownLevel {
                domain: "CONTOSO".into(),
                user: "alice".into()
            })
        );
        assert_eq!(
            account("alice@contoso.com", Scheme::Ntlm),
            Ok(Account::Principal("alice@contoso.com".into()))
        );
        for bad in [
            "alice",
            "\\alice",
            "CONTOSO\\",
            "a\\b\\c",
            "@contoso",
            "alice@",
            "a@b@c",
        ] {
            let e = account(bad, Scheme::Ntlm).unwrap_err();
            assert!(
                e.to_string().contains("needs the user's domain"),
                "{bad}: {e}"
            );
        }
        assert!(validate(AuthMode::Ntlm, Some(&Credentials::new("alice", "x"))).is_err());
        assert!(validate(AuthMode::Basic, Some(&Credentials::new("alice", "x"))).is_ok());
        assert!(validate(AuthMode::Auto, Some(&Credentials::new("alice", "x"))).is_ok());
        assert!(validate(AuthMode::Basic, None).is_err());
        assert_eq!(
            "kerberos".parse::<AuthMode>().unwrap_err().to_string(),
            "--proxy-auth `kerberos`: expected auto, basic, ntlm, negotiate or none"
        );
    }

    #[test]
    fn credentials_never_print_their_password() {
        let c = Credentials::new("CONTOSO\\alice", "s3cret-marker");
        assert!(!format!("{c:?}").contains("s3cret-marker"));
        let (h, _) = Handshake::start(Scheme::Ntlm, Identity::Explicit(&c), "proxy").unwrap();
        assert!(!format!("{h:?}").contains("s3cret-marker"));
    }
}

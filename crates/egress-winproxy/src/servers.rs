//! A Windows proxy server list: `proxy:8080` for every scheme, or per
//! scheme, `http=proxy:80;https=sproxy:8080` (WinINET and WinHTTP write
//! both). A scheme the list does not name goes direct.

use std::fmt;

/// One proxy: host and port (80 when the list names none, as WinINET and
/// WinHTTP assume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for ServerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The proxy list, as Windows keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyServers {
    /// `(scheme, server)`; scheme `None` for an entry without `scheme=`,
    /// which serves every scheme no entry names.
    entries: Vec<(Option<String>, ServerAddress)>,
}

impl ProxyServers {
    /// Parses a list. Entries are separated by `;` or white space; an entry
    /// is `[scheme=][http://]host[:port]`. Errors name the entry.
    pub fn parse(text: &str) -> Result<ProxyServers, String> {
        let mut entries = Vec::new();
        for entry in text
            .split([';', ' ', '\t'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (scheme, rest) = match entry.split_once('=') {
                Some((s, r)) => (Some(s.trim().to_ascii_lowercase()), r.trim()),
                None => (None, entry),
            };
            let rest = rest
                .strip_prefix("http://")
                .or_else(|| rest.strip_prefix("HTTP://"))
                .unwrap_or(rest)
                .trim_end_matches('/');
            entries.push((
                scheme,
                server_address(rest).map_err(|e| crate::redact(&format!("`{entry}`: {e}")))?,
            ));
        }
        Ok(ProxyServers { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The proxy for `scheme` (`http`, `https`): the entry for it, else the
    /// first entry without a scheme; `None`: direct.
    pub fn for_scheme(&self, scheme: &str) -> Option<&ServerAddress> {
        let scheme = scheme.to_ascii_lowercase();
        self.entries
            .iter()
            .find(|(s, _)| s.as_deref() == Some(scheme.as_str()))
            .or_else(|| self.entries.iter().find(|(s, _)| s.is_none()))
            .map(|(_, a)| a)
    }
}

impl fmt::Display for ProxyServers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (scheme, address)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            if let Some(s) = scheme {
                write!(f, "{s}=")?;
            }
            write!(f, "{address}")?;
        }
        Ok(())
    }
}

fn server_address(text: &str) -> Result<ServerAddress, String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address without its `]`")?;
        (host, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("no host".to_owned());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return Err(format!("`{host}` is not a host name or address"));
    }
    let port = match port {
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("`{p}` is not a port from 1 to 65535")),
        },
    };
    Ok(ServerAddress {
        host: host.to_ascii_lowercase(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(list: &str, scheme: &str, expected: Option<&str>) {
        let servers = ProxyServers::parse(list).unwrap();
        assert_eq!(
            servers
                .for_scheme(scheme)
                .map(ToString::to_string)
                .as_deref(),
            expected,
            "{list} for {scheme}"
        );
    }

    #[test]
    fn lists() {
        check("proxy:8080", "https", Some("proxy:8080"));
        check("proxy", "http", Some("proxy:80"));
        check("http=a:80;https=b:8080", "https", Some("b:8080"));
        check("http=a:80;https=b:8080", "http", Some("a:80"));
        check("http=a:80", "https", None);
        check("http=a:80 c:3128", "https", Some("c:3128"));
        check("HTTPS=http://B.example:81/", "https", Some("b.example:81"));
        check("[fd00::1]:3128", "https", Some("[fd00::1]:3128"));
        check("", "https", None);
        for bad in ["a:0", "a:99999", "a:x", "=:80", "a b:c", "[::1"] {
            assert!(ProxyServers::parse(bad).is_err(), "{bad}");
        }
    }
}

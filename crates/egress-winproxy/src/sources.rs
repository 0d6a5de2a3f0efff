//! Where a proxy setting comes from, and which ConfigMgr role takes its
//! proxy from where (`docs/proxy-discovery.md`, from the current proxy
//! server support page):
//!
//! - site system roles (service connection point, software update point,
//!   CMG connection point, asset intelligence synchronization point,
//!   distribution point, the top-level site server) use the **site system
//!   proxy** set in the console (the profile's `[proxy]`); without one,
//!   their components go as SYSTEM through **WinHTTP**;
//! - the **management point** validates Microsoft Entra tokens (version
//!   2603 and later) through **WinHTTP** only: "The proxy configured in the
//!   site system properties doesn't apply to MISE token validation";
//! - the **console** runs as the signed-in user: **WinINET (user)**
//!   (.NET's `defaultProxy` with `usesystemdefault`);
//! - the **client** (and an Intune-managed device) takes the user's
//!   **WinINET** settings, else SYSTEM's.

use std::fmt;
use std::str::FromStr;

/// A place a proxy setting comes from (`--proxy-from`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The profile's `[proxy]`: the site system proxy.
    Profile,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`.
    Env,
    /// WinHTTP (`netsh winhttp set proxy`).
    WinHttp,
    /// WinINET of the SYSTEM account (`HKU\S-1-5-18`).
    WinInetSystem,
    /// WinINET of the current user (`HKCU`).
    WinInetUser,
    /// A PAC file, by URL or path.
    Pac(String),
    /// WPAD auto-discovery.
    Wpad,
    /// Direct, whatever is configured.
    None,
    /// Per role, the source that role uses ([`role_sources`]).
    Auto,
}

impl Source {
    /// Every source `egress routes` reports on (a PAC comes from another
    /// source's auto-configuration URL, or `--proxy-from pac:`).
    pub const DISCOVERABLE: [Source; 6] = [
        Source::Profile,
        Source::Env,
        Source::WinHttp,
        Source::WinInetSystem,
        Source::WinInetUser,
        Source::Wpad,
    ];

    /// As `--proxy-from` writes it (a PAC URL's user information as `***`).
    pub fn name(&self) -> String {
        match self {
            Source::Profile => "profile".to_owned(),
            Source::Env => "env".to_owned(),
            Source::WinHttp => "winhttp".to_owned(),
            Source::WinInetSystem => "wininet-system".to_owned(),
            Source::WinInetUser => "wininet-user".to_owned(),
            Source::Pac(at) => format!("pac:{}", crate::redact(at)),
            Source::Wpad => "wpad".to_owned(),
            Source::None => "none".to_owned(),
            Source::Auto => "auto".to_owned(),
        }
    }

    /// How people name it.
    pub fn title(&self) -> String {
        match self {
            Source::Profile => "site system proxy (profile)".to_owned(),
            Source::Env => "environment".to_owned(),
            Source::WinHttp => "WinHTTP".to_owned(),
            Source::WinInetSystem => "WinINET (SYSTEM)".to_owned(),
            Source::WinInetUser => "WinINET (user)".to_owned(),
            Source::Pac(at) => format!("PAC {}", crate::redact(at)),
            Source::Wpad => "WPAD".to_owned(),
            Source::None => "direct".to_owned(),
            Source::Auto => "per role".to_owned(),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(text: &str) -> Result<Source, String> {
        Ok(match text {
            "profile" => Source::Profile,
            "env" => Source::Env,
            "winhttp" => Source::WinHttp,
            "wininet-system" => Source::WinInetSystem,
            "wininet-user" => Source::WinInetUser,
            "wpad" => Source::Wpad,
            "none" => Source::None,
            "auto" => Source::Auto,
            _ => match text.strip_prefix("pac:") {
                Some(at) if !at.is_empty() => Source::Pac(at.to_owned()),
                Some(_) => {
                    return Err("`pac:` needs a URL or a file: pac:http://wpad/wpad.dat".to_owned());
                }
                None => {
                    return Err(format!(
                        "`{text}`: expected profile, env, winhttp, wininet-system, wininet-user, pac:URL_OR_FILE, wpad, none or auto"
                    ));
                }
            },
        })
    }
}

/// The sources a role takes its proxy from, in order: the first that is
/// configured is the one it uses.
pub fn role_sources(role: &str) -> Vec<Source> {
    match role {
        "management-point" => vec![Source::WinHttp],
        "console" => vec![Source::WinInetUser],
        "client" | "intune-managed-device" => vec![Source::WinInetUser, Source::WinInetSystem],
        // Site system roles, and what the page names no role for.
        _ => vec![Source::Profile, Source::WinHttp],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Source::DISCOVERABLE.into_iter().chain([
            Source::None,
            Source::Auto,
            Source::Pac("http://wpad/wpad.dat".to_owned()),
        ]) {
            assert_eq!(s.name().parse::<Source>(), Ok(s));
        }
        assert!(
            "winhttps"
                .parse::<Source>()
                .unwrap_err()
                .contains("expected profile")
        );
        assert!("pac:".parse::<Source>().is_err());
    }
}

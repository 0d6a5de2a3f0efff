//! Windows proxy settings from untrusted bytes must never panic: the
//! registry blobs of both stores, `.reg` files in any encoding, the flat
//! WinINET values beside a blob, and the proxy and bypass lists they hold. What decodes must behave: a blob made
//! from decoded settings decodes to the same settings, and a bypass list
//! always bypasses loopback unless it says `<-loopback>`.
//!
//! Shared by the fuzz target and the test that replays the seed corpus
//! (`crates/egress/tests/fuzz_seeds.rs`).

use egress_winproxy::blob::{Store, decode, encode};
use egress_winproxy::wininet::{Flat, Hive, Kept, choose};
use egress_winproxy::{BypassList, ProxyServers, RegFile, RegValue};

/// Runs one input; panics on a failed property.
pub fn check(data: &[u8]) {
    for store in [Store::WinHttp, Store::WinInet] {
        if let Ok(settings) = decode(data, store) {
            let proxy = settings
                .proxy
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let again = decode(
                &encode(
                    store,
                    settings.flags,
                    &proxy,
                    settings.bypass.as_str(),
                    settings.pac_url.as_deref().unwrap_or(""),
                ),
                store,
            )
            .expect("an encoded blob decodes");
            assert_eq!(again.proxy, settings.proxy);
            assert_eq!(again.pac_url, settings.pac_url);
            assert_eq!(again.auto_detect, settings.auto_detect);
        }
    }
    if let Ok(file) = RegFile::parse(data) {
        for store in [Store::WinHttp, Store::WinInet] {
            if let Some(RegValue::Binary(b)) = file.value("HKLM\\X", store.value_name()) {
                let _ = decode(b, store);
            }
        }
        // The flat WinINET values of any key, with its blob: chosen by
        // egress's rule.
        let string = |name: &str| match file.value("HKLM\\X", name) {
            Some(RegValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        let dword = |name: &str| match file.value("HKLM\\X", name) {
            Some(RegValue::Dword(n)) => Some(*n),
            _ => None,
        };
        let hive = Hive {
            blob: match file.value("HKLM\\X\\Connections", "DefaultConnectionSettings") {
                Some(RegValue::Binary(b)) => Some(b.clone()),
                _ => None,
            },
            flat: Flat {
                proxy_enable: dword("ProxyEnable"),
                proxy_server: string("ProxyServer"),
                proxy_override: string("ProxyOverride"),
                auto_config_url: string("AutoConfigURL"),
                auto_detect: dword("AutoDetect"),
            },
            migrate_proxy: dword("MigrateProxy"),
        };
        if let Ok(Some(chosen)) = choose(&hive) {
            // The blob whenever there is one; the other shown only then.
            assert_eq!(chosen.kept == Kept::Flat, hive.blob.is_none());
            assert!(chosen.other.is_none() || chosen.kept == Kept::Blob);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ProxyServers::parse(text).map(|s| s.for_scheme("https").map(ToString::to_string));
        let (list, _) = BypassList::parse(text);
        let no_loopback = text.to_ascii_lowercase().contains("<-loopback>");
        if !no_loopback {
            assert!(list.bypasses("https", "127.0.0.1", 443));
        }
        let _ = list.bypasses("http", text, 80);
    }
}

//! The proxy a Windows machine uses, from where Windows keeps it, decoded
//! without I/O (callers hand in bytes and text):
//!
//! - [`blob`]: the binary `WinHttpSettings` (WinHTTP, `netsh winhttp set
//!   proxy`) and `DefaultConnectionSettings` (WinINET, per user; SYSTEM's
//!   under `HKU\S-1-5-18`) registry values;
//! - [`reg`]: `reg export` files (UTF-16 with a BOM as Windows writes them,
//!   or UTF-8), so that an export from a customer's server can be read on
//!   any platform;
//! - [`servers`] and [`bypass`]: the proxy list (`a:8080`, or per scheme
//!   `http=a:80;https=b:8080`) and the bypass list (`<local>`, wildcards),
//!   with WinHTTP's and WinINET's semantics (`docs/proxy-discovery.md`);
//! - [`sources`]: the places a proxy comes from, and which one each
//!   ConfigMgr role uses.

#![forbid(unsafe_code)]

pub mod blob;
pub mod bypass;
pub mod reg;
pub mod servers;
pub mod sources;

pub use blob::{BlobError, Store, WindowsProxy};
pub use bypass::BypassList;
pub use reg::{RegError, RegFile, RegValue};
pub use servers::{ProxyServers, ServerAddress};
pub use sources::{Source, role_sources};

//! The client side of Windows' Security Support Provider Interface, as
//! the account egress runs as (a site system's SYSTEM is the computer
//! account): `AcquireCredentialsHandleW` with no identity, then
//! `InitializeSecurityContextW` leg by leg, for NTLM or Negotiate
//! (Kerberos, falling back to NTLM). Empty on other platforms.
//!
//! This is the one crate of the workspace with `unsafe` code, in one
//! module: each call's buffers are owned by the [`Client`] or by the call's
//! stack frame, and the handles are freed once, on drop.

#[cfg(windows)]
mod windows_sspi;

#[cfg(windows)]
pub use windows_sspi::{Client, Error, Package};

#![allow(unsafe_code)]

use std::ffi::c_void;

use windows::Win32::Foundation::{SEC_E_OK, SEC_I_COMPLETE_AND_CONTINUE, SEC_I_COMPLETE_NEEDED};
use windows::Win32::Security::Authentication::Identity::{
    AcquireCredentialsHandleW, CompleteAuthToken, DeleteSecurityContext, FreeContextBuffer,
    FreeCredentialsHandle, ISC_REQ_ALLOCATE_MEMORY, ISC_REQ_CONNECTION, InitializeSecurityContextW,
    SECBUFFER_TOKEN, SECBUFFER_VERSION, SECPKG_CRED_OUTBOUND, SECURITY_NATIVE_DREP, SecBuffer,
    SecBufferDesc,
};
use windows::Win32::Security::Credentials::SecHandle;
use windows::core::PCWSTR;

/// The SSPI package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    Ntlm,
    Negotiate,
}

impl Package {
    fn name(self) -> &'static str {
        match self {
            Package::Ntlm => "NTLM",
            Package::Negotiate => "Negotiate",
        }
    }
}

/// What SSPI said, with the call that said it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{call} failed: {message} (0x{code:08X})")]
pub struct Error {
    pub call: &'static str,
    pub code: u32,
    pub message: String,
}

impl Error {
    fn of(call: &'static str, e: &windows::core::Error) -> Error {
        Error {
            call,
            code: e.code().0 as u32,
            message: e.message(),
        }
    }
}

/// One client context: the credentials handle of the logon identity and
/// the context being built. The handles are plain numbers (so the value
/// moves between threads, as a probe's task does); SSPI does not tie them
/// to the thread that made them.
#[derive(Debug)]
pub struct Client {
    credentials: SecHandle,
    context: Option<SecHandle>,
    target: Vec<u16>,
    done: bool,
}

impl Client {
    /// Starts a context for `target` (the service principal, `HTTP/host`)
    /// as the logon identity; the first leg's token.
    pub fn start(package: Package, target: &str) -> Result<(Client, Vec<u8>), Error> {
        let name: Vec<u16> = package.name().encode_utf16().chain([0]).collect();
        let mut credentials = SecHandle::default();
        let mut expiry = 0i64;
        // SAFETY: `name` is a NUL-terminated UTF-16 string that outlives
        // the call; no principal and no auth data mean the logon identity;
        // the out-pointers point to locals.
        unsafe {
            AcquireCredentialsHandleW(
                PCWSTR::null(),
                PCWSTR(name.as_ptr()),
                SECPKG_CRED_OUTBOUND,
                None,
                None,
                None,
                None,
                &mut credentials,
                Some(&mut expiry),
            )
        }
        .map_err(|e| Error::of("AcquireCredentialsHandleW", &e))?;
        let mut client = Client {
            credentials,
            context: None,
            target: target.encode_utf16().chain([0]).collect(),
            done: false,
        };
        let token = client.step(None)?;
        Ok((client, token))
    }

    /// Whether the context is complete (no further leg expected).
    pub fn done(&self) -> bool {
        self.done
    }

    /// The next leg's token, answering the server's `challenge`.
    pub fn answer(&mut self, challenge: &[u8]) -> Result<Vec<u8>, Error> {
        self.step(Some(challenge))
    }

    fn step(&mut self, input: Option<&[u8]>) -> Result<Vec<u8>, Error> {
        let mut input_copy: Vec<u8> = input.map(<[u8]>::to_vec).unwrap_or_default();
        let mut in_buffer = SecBuffer {
            cbBuffer: input_copy.len() as u32,
            BufferType: SECBUFFER_TOKEN,
            pvBuffer: input_copy.as_mut_ptr().cast::<c_void>(),
        };
        let in_desc = SecBufferDesc {
            ulVersion: SECBUFFER_VERSION,
            cBuffers: 1,
            pBuffers: &mut in_buffer,
        };
        let mut out_buffer = SecBuffer {
            cbBuffer: 0,
            BufferType: SECBUFFER_TOKEN,
            pvBuffer: std::ptr::null_mut(),
        };
        let mut out_desc = SecBufferDesc {
            ulVersion: SECBUFFER_VERSION,
            cBuffers: 1,
            pBuffers: &mut out_buffer,
        };
        let mut new_context = self.context.unwrap_or_default();
        let mut attributes = 0u32;
        let mut expiry = 0i64;
        let old_context = self.context;
        // SAFETY: every pointer is to a local or to `self`, alive for the
        // call; the input buffer's bytes are `input_copy`'s; with
        // ISC_REQ_ALLOCATE_MEMORY, SSPI allocates the output token, freed
        // below with FreeContextBuffer.
        let status = unsafe {
            InitializeSecurityContextW(
                Some(&self.credentials),
                old_context.as_ref().map(|c| c as *const SecHandle),
                Some(self.target.as_ptr()),
                ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONNECTION,
                0,
                SECURITY_NATIVE_DREP,
                input.map(|_| &in_desc as *const SecBufferDesc),
                0,
                Some(&mut new_context),
                Some(&mut out_desc),
                &mut attributes,
                Some(&mut expiry),
            )
        };
        if status.is_err() {
            return Err(Error::of(
                "InitializeSecurityContextW",
                &windows::core::Error::from_hresult(status),
            ));
        }
        self.context = Some(new_context);
        if status == SEC_I_COMPLETE_NEEDED || status == SEC_I_COMPLETE_AND_CONTINUE {
            // SAFETY: the context was just made; `out_desc` is the output
            // of that call.
            unsafe { CompleteAuthToken(&new_context, &out_desc) }
                .map_err(|e| Error::of("CompleteAuthToken", &e))?;
        }
        self.done = status == SEC_E_OK || status == SEC_I_COMPLETE_NEEDED;
        let token = if out_buffer.pvBuffer.is_null() {
            Vec::new()
        } else {
            // SAFETY: SSPI filled `cbBuffer` bytes at `pvBuffer`, which it
            // allocated; they are copied out, then freed once.
            unsafe {
                let bytes = std::slice::from_raw_parts(
                    out_buffer.pvBuffer.cast::<u8>(),
                    out_buffer.cbBuffer as usize,
                )
                .to_vec();
                let _ = FreeContextBuffer(out_buffer.pvBuffer);
                bytes
            }
        };
        Ok(token)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: both handles were made by SSPI for this value and are
        // freed exactly once, here.
        unsafe {
            if let Some(context) = &self.context {
                let _ = DeleteSecurityContext(context);
            }
            let _ = FreeCredentialsHandle(&self.credentials);
        }
    }
}

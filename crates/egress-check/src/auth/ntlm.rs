//! NTLMv2 with explicit credentials, through the `sspi` crate, and a strict
//! reading of the proxy's CHALLENGE message (MS-NLMP 2.2.1.2) before the
//! crate sees it, so that a malformed one is named field by field.

use sspi::{
    AuthIdentity, AuthIdentityBuffers, BufferType, ClientRequestFlags, CredentialUse,
    DataRepresentation, SecurityBuffer, SecurityStatus, Sspi, SspiImpl, Username,
};

use super::{Account, AuthFailure, Scheme};

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// Flag NTLMSSP_NEGOTIATE_TARGET_INFO: the message carries AV pairs.
const TARGET_INFO: u32 = 0x0080_0000;

/// What egress reads of a CHALLENGE message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeMessage {
    pub flags: u32,
    pub server_challenge: [u8; 8],
    /// The AV pairs' ids, in order, up to `MsvAvEOL`.
    pub av_ids: Vec<u16>,
}

/// Reads a CHALLENGE (type-2) message: the signature, the type, and every
/// length and offset within the message. NTLMv2 needs the target
/// information (its AV pairs), so a message without it is refused too.
pub fn challenge_message(bytes: &[u8]) -> Result<ChallengeMessage, String> {
    let n = bytes.len();
    if n < 8 || &bytes[..8] != SIGNATURE {
        return Err(format!(
            "not an NTLM message ({n} bytes without the NTLMSSP signature)"
        ));
    }
    if n < 12 {
        return Err(format!("truncated: {n} bytes, no message type"));
    }
    let kind = u32_at(bytes, 8);
    if kind != 2 {
        return Err(format!(
            "a type-{kind} message where the CHALLENGE (type 2) was expected"
        ));
    }
    if n < 48 {
        return Err(format!(
            "truncated: {n} bytes; a CHALLENGE message with target information has at least 48"
        ));
    }
    let flags = u32_at(bytes, 20);
    field(bytes, 12, "target name")?;
    let mut server_challenge = [0u8; 8];
    server_challenge.copy_from_slice(&bytes[24..32]);
    if flags & TARGET_INFO == 0 {
        return Err(
            "no target information (NTLMv2 needs it; the proxy offers only NTLMv1, which egress does not speak)"
                .to_owned(),
        );
    }
    let info = field(bytes, 40, "target information")?;
    let mut av_ids = Vec::new();
    let mut at = 0;
    loop {
        if at + 4 > info.len() {
            return Err(format!(
                "the target information ends inside an AV pair header (at byte {at} of {})",
                info.len()
            ));
        }
        let id = u16_at(info, at);
        let len = usize::from(u16_at(info, at + 2));
        if at + 4 + len > info.len() {
            return Err(format!(
                "AV pair {id} says {len} bytes, past the end of the target information ({} bytes)",
                info.len()
            ));
        }
        av_ids.push(id);
        at += 4 + len;
        if id == 0 {
            break;
        }
    }
    Ok(ChallengeMessage {
        flags,
        server_challenge,
        av_ids,
    })
}

/// The bytes a (length, max length, offset) field at `at` names.
fn field<'a>(bytes: &'a [u8], at: usize, name: &str) -> Result<&'a [u8], String> {
    let len = usize::from(u16_at(bytes, at));
    let offset = u32_at(bytes, at + 4) as usize;
    let end = offset.checked_add(len).filter(|e| *e <= bytes.len());
    match end {
        Some(end) => Ok(&bytes[offset..end]),
        None => Err(format!(
            "the {name} runs past the end (offset {offset} + length {len} > {} bytes)",
            bytes.len()
        )),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The client side of one NTLM handshake with explicit credentials.
pub struct Client {
    ntlm: sspi::Ntlm,
    credentials: Option<AuthIdentityBuffers>,
    target: String,
    answered: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ntlm::Client({}, answered: {})",
            self.target, self.answered
        )
    }
}

impl Client {
    /// The NEGOTIATE (type-1) message for `account`, towards `HTTP/host`.
    pub fn start(
        account: &Account,
        password: &str,
        host: &str,
    ) -> Result<(Client, Vec<u8>), String> {
        let username = match account {
            Account::DownLevel { domain, user } => Username::new(user, Some(domain)),
            Account::Principal(upn) => Username::parse(upn),
        }
        .map_err(|e| format!("the user name: {e}"))?;
        let identity = AuthIdentity {
            username,
            password: password.to_owned().into(),
        };
        let mut ntlm = sspi::Ntlm::new();
        let acquired = ntlm
            .acquire_credentials_handle()
            .with_credential_use(CredentialUse::Outbound)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .map_err(|e| e.description)?;
        let mut client = Client {
            ntlm,
            credentials: acquired.credentials_handle,
            target: format!("HTTP/{host}"),
            answered: false,
        };
        let token = client.step(None)?;
        Ok((client, token))
    }

    /// Whether the AUTHENTICATE message has been made.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// The AUTHENTICATE (type-3) message answering `challenge`.
    pub fn answer(&mut self, challenge: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        challenge_message(challenge).map_err(|detail| AuthFailure::BadChallenge {
            scheme: Scheme::Ntlm,
            detail,
        })?;
        let token = self
            .step(Some(challenge))
            .map_err(|detail| AuthFailure::BadChallenge {
                scheme: Scheme::Ntlm,
                detail,
            })?;
        self.answered = true;
        Ok(token)
    }

    fn step(&mut self, input: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut input = vec![SecurityBuffer::new(
            input.map(<[u8]>::to_vec).unwrap_or_default(),
            BufferType::Token,
        )];
        let mut builder = self
            .ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.credentials)
            .with_context_requirements(ClientRequestFlags::empty())
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name(&self.target)
            .with_output(&mut output);
        if !input[0].buffer.is_empty() {
            builder = builder.with_input(&mut input);
        }
        let result = self
            .ntlm
            .initialize_security_context_impl(&mut builder)
            .and_then(|mut g| g.resolve_to_result())
            .map_err(|e| e.description)?;
        if matches!(
            result.status,
            SecurityStatus::CompleteNeeded | SecurityStatus::CompleteAndContinue
        ) {
            self.ntlm
                .complete_auth_token(&mut output)
                .map_err(|e| e.description)?;
        }
        Ok(std::mem::take(&mut output[0].buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CHALLENGE message with a target name and AV pairs (NbDomainName,
    /// EOL), as a Windows server sends.
    pub(crate) fn message() -> Vec<u8> {
        let name: Vec<u8> = "CONTOSO"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut info = Vec::new();
        info.extend(2u16.to_le_bytes());
        info.extend((name.len() as u16).to_le_bytes());
        info.extend(&name);
        info.extend([0, 0, 0, 0]);
        let mut m = Vec::new();
        m.extend(SIGNATURE);
        m.extend(2u32.to_le_bytes());
        let name_at = 56u32;
        m.extend((name.len() as u16).to_le_bytes());
        m.extend((name.len() as u16).to_le_bytes());
        m.extend(name_at.to_le_bytes());
        m.extend((0x0000_0001u32 | 0x0000_0200 | TARGET_INFO | 0x0008_0000).to_le_bytes());
        m.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        m.extend([0; 8]);
        let info_at = name_at + name.len() as u32;
        m.extend((info.len() as u16).to_le_bytes());
        m.extend((info.len() as u16).to_le_bytes());
        m.extend(info_at.to_le_bytes());
        m.extend([6, 1, 0, 0, 0, 0, 0, 15]);
        m.extend(&name);
        m.extend(&info);
        m
    }

    fn check(bytes: &[u8], expected: Result<Vec<u16>, &str>) {
        let got = challenge_message(bytes).map(|m| m.av_ids);
        match (&got, &expected) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(e), Err(want)) => assert!(e.contains(want), "{e} does not say {want}"),
            _ => panic!("{got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn challenge_messages_are_read_strictly() {
        let good = message();
        check(&good, Ok(vec![2, 0]));
        check(&good[..20], Err("truncated: 20 bytes"));
        check(b"NTLMSSP", Err("not an NTLM message"));
        check(b"HTTP/1.1 407 whatever", Err("not an NTLM message"));
        let mut type3 = good.clone();
        type3[8] = 3;
        check(&type3, Err("a type-3 message where the CHALLENGE"));
        let mut long_name = good.clone();
        long_name[12] = 200;
        check(
            &long_name,
            Err("the target name runs past the end (offset 56 + length 200"),
        );
        let mut far_info = good.clone();
        far_info[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        check(&far_info, Err("the target information runs past the end"));
        let mut long_av = good.clone();
        let info_at = 56 + 14;
        long_av[info_at + 2] = 250;
        check(&long_av, Err("AV pair 2 says 250 bytes, past the end"));
        let mut v1 = good.clone();
        v1[22] &= !0x80;
        check(&v1, Err("no target information"));
    }

    #[test]
    fn a_real_handshake_makes_an_authenticate_message() {
        let account = Account::DownLevel {
            domain: "CONTOSO".into(),
            user: "alice".into(),
        };
        let (mut client, negotiate) = Client::start(&account, "pw", "proxy.contoso.com").unwrap();
        assert_eq!(&negotiate[..8], SIGNATURE);
        assert_eq!(negotiate[8], 1);
        let authenticate = client.answer(&message()).unwrap();
        assert_eq!(&authenticate[..8], SIGNATURE);
        assert_eq!(authenticate[8], 3);
        assert!(client.answered());
    }
}

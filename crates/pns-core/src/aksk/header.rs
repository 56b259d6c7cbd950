//! Strict parsing of the `X-AKSK` header. Anything that is not exactly the documented shape is refused before
//! any cryptography runs: the header comes from the network, so every branch returns an error, never panics.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{AkskError, CREATED_FORMAT};

const PREFIX: &str = "UsernameToken ";
const MAX_NONCE: usize = 128;
// Generous bounds that still stop a multi-kilobyte header from being copied around.
const MAX_USERNAME: usize = 256;
const MAX_DIGEST: usize = 128;

// The reasons double as the key to the platform's per-attribute result code (see `malformed_code`).
const BAD_PREFIX: &str = "must start with 'UsernameToken '";
const BAD_SYNTAX: &str = "expected Key=\"value\" pairs separated by commas";
const UNKNOWN_KEY: &str = "unknown attribute (only Username, PasswordDigest, Nonce, Created)";
const DUPLICATE_KEY: &str = "an attribute appears more than once";
const BAD_USERNAME: &str = "Username missing or invalid";
const BAD_DIGEST: &str = "PasswordDigest missing or not Base64";
const BAD_NONCE: &str = "Nonce missing or not 1-128 ASCII letters/digits";
const BAD_CREATED: &str = "Created missing or not yyyy-MM-ddTHH:mm:ssZ";

/// The four attributes of an `X-AKSK` header, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XAksk<'a> {
    pub username: &'a str,
    pub password_digest: &'a str,
    pub nonce: &'a str,
    pub created: &'a str,
}

impl<'a> XAksk<'a> {
    /// `UsernameToken Username="..",PasswordDigest="..",Nonce="..",Created=".."`: exactly these four
    /// attributes, each once, in any order, values in double quotes (no escapes), no spaces between them.
    pub fn parse(header: &'a str) -> Result<Self, AkskError> {
        let mut rest = header
            .strip_prefix(PREFIX)
            .ok_or(AkskError::Malformed(BAD_PREFIX))?;
        let (mut username, mut digest, mut nonce, mut created) = (None, None, None, None);
        loop {
            let (key, after_key) = rest
                .split_once('=')
                .ok_or(AkskError::Malformed(BAD_SYNTAX))?;
            let quoted = after_key
                .strip_prefix('"')
                .ok_or(AkskError::Malformed(BAD_SYNTAX))?;
            let (value, after_value) = quoted
                .split_once('"')
                .ok_or(AkskError::Malformed(BAD_SYNTAX))?;
            let slot = match key {
                "Username" => &mut username,
                "PasswordDigest" => &mut digest,
                "Nonce" => &mut nonce,
                "Created" => &mut created,
                _ => return Err(AkskError::Malformed(UNKNOWN_KEY)),
            };
            if slot.replace(value).is_some() {
                return Err(AkskError::Malformed(DUPLICATE_KEY));
            }
            if after_value.is_empty() {
                break;
            }
            rest = after_value
                .strip_prefix(',')
                .ok_or(AkskError::Malformed(BAD_SYNTAX))?;
        }

        let username = username
            .filter(|u| valid_username(u))
            .ok_or(AkskError::Malformed(BAD_USERNAME))?;
        let password_digest = digest
            .filter(|d| valid_base64(d))
            .ok_or(AkskError::Malformed(BAD_DIGEST))?;
        let nonce = nonce
            .filter(|n| valid_nonce(n))
            .ok_or(AkskError::Malformed(BAD_NONCE))?;
        let created = created
            .filter(|c| parse_created(c).is_some())
            .ok_or(AkskError::Malformed(BAD_CREATED))?;
        Ok(Self {
            username,
            password_digest,
            nonce,
            created,
        })
    }

    /// `Created` as a time; `parse` already guaranteed it is well formed.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        parse_created(self.created)
    }
}

/// Parses `Created` strictly: exactly `yyyy-MM-ddTHH:mm:ssZ` (20 characters, no fraction, no offset).
/// chrono alone would accept variants (e.g. a one-digit month), hence the shape check first.
pub fn parse_created(s: &str) -> Option<DateTime<Utc>> {
    const SHAPE: &[u8; 20] = b"dddd-dd-ddTdd:dd:ddZ";
    let bytes = s.as_bytes();
    if bytes.len() != SHAPE.len() {
        return None;
    }
    let shape_ok = bytes.iter().zip(SHAPE).all(|(&b, &want)| match want {
        b'd' => b.is_ascii_digit(),
        _ => b == want,
    });
    if !shape_ok {
        return None;
    }
    NaiveDateTime::parse_from_str(s, CREATED_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

fn valid_username(u: &str) -> bool {
    !u.is_empty() && u.len() <= MAX_USERNAME && u.bytes().all(|b| b.is_ascii_graphic())
}

fn valid_nonce(n: &str) -> bool {
    (1..=MAX_NONCE).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn valid_base64(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= MAX_DIGEST
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

/// The platform's code for a malformed X-AKSK: one per missing/invalid attribute, 1023033 otherwise.
pub(super) fn malformed_code(reason: &str) -> u32 {
    match reason {
        BAD_USERNAME => 1_023_034,
        BAD_NONCE => 1_023_035,
        BAD_CREATED => 1_023_036,
        BAD_DIGEST => 1_023_037,
        _ => 1_023_033,
    }
}

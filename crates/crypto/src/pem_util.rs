//! PEM encoding exactly as Go's `pem.EncodeToMemory` writes it, and lenient decoding.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;

/// Encodes `der` as a PEM block the way Go's `pem.EncodeToMemory` does (no headers):
/// `-----BEGIN LABEL-----\n`, the standard base64 of `der` in lines of 64 characters each
/// ending in `\n`, then `-----END LABEL-----\n`.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // base64 output is ASCII, so splitting at byte offsets is splitting at char boundaries.
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Parses every PEM block in `input` (text around and between blocks is ignored).
/// Fails if there is none or one is malformed.
pub(crate) fn parse_blocks(input: &str) -> Result<Vec<pem::Pem>, Error> {
    let blocks = pem::parse_many(input).map_err(|e| Error::InvalidPem {
        reason: e.to_string().to_lowercase(),
    })?;
    if blocks.is_empty() {
        return Err(Error::InvalidPem {
            reason: "no PEM block found".to_owned(),
        });
    }
    Ok(blocks)
}

/// The first PEM block of `input` (what Go's `pem.Decode` returns).
pub(crate) fn parse_first(input: &str) -> Result<pem::Pem, Error> {
    let mut blocks = parse_blocks(input)?;
    Ok(blocks.swap_remove(0))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_go() {
        assert_eq!(pem_encode("X", b""), "-----BEGIN X-----\n-----END X-----\n");
        let der = [0u8; 48]; // exactly 64 base64 characters
        let pem = pem_encode("PUBLIC KEY", &der);
        assert_eq!(
            pem,
            format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                "A".repeat(64)
            )
        );
        let pem = pem_encode("A B", &[0u8; 49]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2], "AA==");
        let back = parse_first(&pem).unwrap();
        assert_eq!(back.tag(), "A B");
        assert_eq!(back.contents(), &[0u8; 49]);
    }

    #[test]
    fn no_block_is_an_error() {
        let err = parse_first("hello").unwrap_err();
        assert_eq!(err.to_string(), "invalid PEM: no PEM block found");
    }
}

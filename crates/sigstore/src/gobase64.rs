//! Base64 decoding with the leniency of Go's `base64.StdEncoding.DecodeString`, which cosign
//! uses for the signature annotation: `\r` and `\n` anywhere are skipped (so a signature file
//! attached with its trailing newline still verifies); any other deviation is an error.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Decodes standard, padded base64, skipping CR and LF as Go does.
pub fn decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if s.contains(['\r', '\n']) {
        let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        STANDARD.decode(cleaned)
    } else {
        STANDARD.decode(s)
    }
}

/// Encodes as standard, padded base64.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_newlines_only() {
        assert_eq!(decode("aGVs\r\nbG8=\n").unwrap(), b"hello");
        assert!(decode("aGVs bG8=").is_err());
        assert!(decode("aGVsbG8").is_err());
        assert!(decode("aGVsbG8=\t").is_err());
    }
}

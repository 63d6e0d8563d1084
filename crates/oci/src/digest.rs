//! Content digests (`algorithm:hex`), as the OCI image spec defines them.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::Error;

/// A content digest such as `sha256:4aa3…`. Only sha256, sha384 and sha512 are accepted, with
/// lower-case hex of the right length, so a parsed digest is always safe to put in a path or URL.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: &'static str,
    hex: String,
}

impl Digest {
    /// The sha256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Self {
        Digest {
            algorithm: "sha256",
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    /// The algorithm, e.g. `sha256`.
    pub fn algorithm(&self) -> &str {
        self.algorithm
    }

    /// The lower-case hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Whether `bytes` hash to this digest (with this digest's algorithm).
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let computed = match self.algorithm {
            "sha256" => hex::encode(Sha256::digest(bytes)),
            "sha384" => hex::encode(Sha384::digest(bytes)),
            _ => hex::encode(Sha512::digest(bytes)),
        };
        computed == self.hex
    }

    /// The cosign tag for artifacts attached to this digest: `sha256-<hex>.<suffix>`.
    pub fn tag_with_suffix(&self, suffix: &str) -> String {
        format!("{}-{}.{}", self.algorithm, self.hex, suffix)
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidDigest {
            digest: s.to_string(),
            reason,
        };
        let (algorithm, hex) = s.split_once(':').ok_or_else(|| invalid("missing ':'"))?;
        let (algorithm, len) = match algorithm {
            "sha256" => ("sha256", 64),
            "sha384" => ("sha384", 96),
            "sha512" => ("sha512", 128),
            _ => return Err(invalid("unsupported algorithm (sha256, sha384 or sha512)")),
        };
        if hex.len() != len {
            return Err(invalid("wrong length for the algorithm"));
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(invalid("not lower-case hex"));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_object() {
        assert_eq!(
            Digest::sha256(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn parse_and_match() {
        let d: Digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
            .parse()
            .unwrap();
        assert!(d.matches(b"{}"));
        assert!(!d.matches(b"{ }"));
        assert_eq!(
            d.tag_with_suffix("sig"),
            "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a.sig"
        );
    }

    #[rstest::rstest]
    #[case("sha256")]
    #[case("sha256:abc")]
    #[case("md5:44136fa355b3678a1146ad16f7e8649e")]
    #[case("sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A")]
    #[case("sha256:../../etc/passwd0000000000000000000000000000000000000000000000000")]
    fn rejects(#[case] s: &str) {
        assert!(s.parse::<Digest>().is_err(), "{s}");
    }
}

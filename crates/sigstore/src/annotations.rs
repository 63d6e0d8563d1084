//! Annotation keys cosign puts on signature layers (note the two prefixes), and the parser
//! for `-a key=value` flags.

use std::collections::BTreeMap;

use crate::Error;

/// The base64 signature over the layer's payload.
pub const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// PEM of the signing certificate.
pub const CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
/// PEM of the certificate chain.
pub const CHAIN: &str = "dev.sigstore.cosign/chain";
/// The Rekor bundle (transparency-log inclusion promise).
pub const BUNDLE: &str = "dev.sigstore.cosign/bundle";
/// An RFC 3161 timestamp.
pub const RFC3161_TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// Parses `-a` values as cosign does: each flag value may hold several comma-separated
/// `key=value` items (pflag `StringSlice`), each split at the first `=`; later keys win.
pub fn parse_flags<S: AsRef<str>>(values: &[S]) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for value in values {
        for item in value.as_ref().split(',') {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| Error::InvalidAnnotation(item.to_string()))?;
            out.insert(k.to_string(), v.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_pflag() {
        let m = parse_flags(&["a=1,b=2", "c=x=y", "a=3"]).unwrap();
        assert_eq!(m["a"], "3");
        assert_eq!(m["b"], "2");
        assert_eq!(m["c"], "x=y");
        assert!(matches!(
            parse_flags(&["novalue"]),
            Err(Error::InvalidAnnotation(s)) if s == "novalue"
        ));
    }
}

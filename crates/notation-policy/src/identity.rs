//! Trusted identities: X.509 distinguished names in the string form notation uses
//! (`C=US, ST=WA, O=acme, CN=Builder`, RFC 4514-like) and their partial match against a
//! certificate subject.
//!
//! Parsing rules (the Notary Project trust policy specification, as notation applies them):
//! * RDNs are separated by `,` or `;`; spaces around types, `=` and separators are ignored.
//! * A value keeps escaped characters: `\,` `\;` `\\` `\+` `\"` `\<` `\>` `\=` `\#` `\ ` and
//!   `\XX` hex pairs (UTF-8). Leading and trailing spaces are kept only when escaped.
//! * Not supported (refused): multi-valued RDNs (`+`), `#`-prefixed hex values, empty values,
//!   repeated attribute types.
//! * Attribute types are keywords (case-insensitive, normalised to upper case, `S` to `ST`) or
//!   dotted OIDs.
//! * A trusted identity must contain `C`, `ST` and `O`.

use crate::error::{DnProblem, Error};

/// The attributes every trusted identity must have.
pub const MANDATORY_ATTRIBUTES: [&str; 3] = ["C", "ST", "O"];

/// The prefix of an X.509 subject trusted identity.
pub const X509_SUBJECT_PREFIX: &str = "x509.subject";

/// A parsed distinguished name: attributes in order, types normalised, each type at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    attributes: Vec<(String, String)>,
}

impl DistinguishedName {
    /// Parses a DN such as `C=US, ST=WA, O=acme, CN=Builder`.
    pub fn parse(dn: &str) -> Result<Self, Error> {
        parse_dn(dn).map_err(|problem| Error::InvalidDistinguishedName {
            dn: dn.to_owned(),
            problem,
        })
    }

    /// Parses a DN that must also be usable as a trusted identity (contains `C`, `ST`, `O`).
    pub fn parse_trusted(dn: &str) -> Result<Self, Error> {
        parse_trusted_dn(dn).map_err(|problem| Error::InvalidDistinguishedName {
            dn: dn.to_owned(),
            problem,
        })
    }

    /// The attributes, as (normalised type, value), in written order.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// The value of an attribute type (normalised the same way as parsed types).
    pub fn get(&self, attribute: &str) -> Option<&str> {
        let wanted = normalise_type(attribute);
        self.attributes
            .iter()
            .find(|(t, _)| *t == wanted)
            .map(|(_, v)| v.as_str())
    }

    /// True when every attribute of `self` is in `other` with the same value.
    pub fn is_subset_of(&self, other: &DistinguishedName) -> bool {
        self.attributes
            .iter()
            .all(|(t, v)| other.get(t) == Some(v.as_str()))
    }

    /// Partial DN match against a certificate subject given as (attribute short name, value) in
    /// certificate order: every attribute of `self` must occur exactly once in the subject with
    /// an equal (case-sensitive) value. Subject attributes `self` does not name are ignored; a
    /// constrained attribute repeated in the subject is ambiguous and does not match.
    pub fn matches_subject<N: AsRef<str>, V: AsRef<str>>(&self, subject: &[(N, V)]) -> bool {
        self.attributes.iter().all(|(t, v)| {
            let mut found = subject
                .iter()
                .filter(|(n, _)| normalise_type(n.as_ref()) == *t);
            matches!((found.next(), found.next()), (Some((_, value)), None) if value.as_ref() == v)
        })
    }
}

impl std::fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (t, v)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}={}", escape_value(v))?;
        }
        Ok(())
    }
}

/// One `trustedIdentities` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedIdentity {
    /// `"*"`: any signing certificate that chains to the policy's trust stores.
    Any,
    /// `"x509.subject: <DN>"`: a (partial) subject DN.
    X509Subject(DistinguishedName),
}

impl TrustedIdentity {
    /// True when a certificate with this subject is trusted by this entry.
    pub fn matches<N: AsRef<str>, V: AsRef<str>>(&self, subject: &[(N, V)]) -> bool {
        match self {
            Self::Any => true,
            Self::X509Subject(dn) => dn.matches_subject(subject),
        }
    }

    /// Parses one entry of policy `policy` (errors name the policy and entry).
    pub(crate) fn parse_in_policy(policy: &str, entry: &str) -> Result<Self, Error> {
        if entry.is_empty() {
            return Err(Error::EmptyTrustedIdentity {
                policy: policy.to_owned(),
            });
        }
        if entry == "*" {
            return Ok(Self::Any);
        }
        let value = match entry.split_once(':') {
            Some((X509_SUBJECT_PREFIX, value)) => value,
            _ => {
                return Err(Error::UnsupportedIdentity {
                    policy: policy.to_owned(),
                    identity: entry.to_owned(),
                });
            }
        };
        parse_trusted_dn(value)
            .map(Self::X509Subject)
            .map_err(|problem| Error::InvalidTrustedIdentity {
                policy: policy.to_owned(),
                identity: entry.to_owned(),
                problem,
            })
    }
}

impl std::fmt::Display for TrustedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::X509Subject(dn) => write!(f, "{X509_SUBJECT_PREFIX}: {dn}"),
        }
    }
}

fn parse_trusted_dn(dn: &str) -> Result<DistinguishedName, DnProblem> {
    let parsed = parse_dn(dn)?;
    for attribute in MANDATORY_ATTRIBUTES {
        if parsed.get(attribute).is_none() {
            return Err(DnProblem::MissingMandatory { attribute });
        }
    }
    Ok(parsed)
}

/// Upper-cases keywords and maps the `S` alias to `ST`; OIDs are kept as written.
fn normalise_type(t: &str) -> String {
    let upper = t.trim().to_ascii_uppercase();
    if upper == "S" { "ST".to_owned() } else { upper }
}

fn valid_type(t: &str) -> bool {
    let mut chars = t.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => chars.all(|c| c.is_ascii_alphanumeric() || c == '-'),
        Some(c) if c.is_ascii_digit() => t
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())),
        _ => false,
    }
}

const SPECIALS: &[char] = &[',', ';', '\\', '+', '"', '<', '>', '=', '#', ' '];

fn parse_dn(dn: &str) -> Result<DistinguishedName, DnProblem> {
    if dn.trim().is_empty() {
        return Err(DnProblem::Empty);
    }
    let mut attributes: Vec<(String, String)> = Vec::new();
    let mut chars = dn.chars().peekable();
    loop {
        // Attribute type, up to '='.
        let mut raw_type = String::new();
        loop {
            match chars.next() {
                Some('=') => break,
                Some(',' | ';') | None if raw_type.trim().is_empty() => {
                    return Err(DnProblem::EmptyRdn);
                }
                Some(',' | ';' | '+') | None => return Err(DnProblem::MissingEquals),
                Some(c) => raw_type.push(c),
            }
        }
        let raw_type = raw_type.trim();
        if !valid_type(raw_type) {
            return Err(DnProblem::InvalidAttributeType {
                attribute: raw_type.to_owned(),
            });
        }
        let attribute = normalise_type(raw_type);

        // Value, up to an unescaped separator.
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek() == Some(&'#') {
            return Err(DnProblem::HexValue { attribute });
        }
        let mut bytes: Vec<u8> = Vec::new();
        let mut significant = 0;
        let mut more = false;
        while let Some(c) = chars.next() {
            match c {
                ',' | ';' => {
                    more = true;
                    break;
                }
                '+' => return Err(DnProblem::MultiValuedRdn),
                '\\' => {
                    match chars.next() {
                        Some(e) if SPECIALS.contains(&e) => push_char(&mut bytes, e),
                        Some(h) if h.is_ascii_hexdigit() => {
                            let low = chars.next().and_then(|l| l.to_digit(16));
                            let (Some(high), Some(low)) = (h.to_digit(16), low) else {
                                return Err(DnProblem::InvalidEscape);
                            };
                            // Both digits are < 16, so the pair fits a byte.
                            bytes.push(
                                u8::try_from(high * 16 + low)
                                    .map_err(|_| DnProblem::InvalidEscape)?,
                            );
                        }
                        _ => return Err(DnProblem::InvalidEscape),
                    }
                    significant = bytes.len();
                }
                ' ' => push_char(&mut bytes, c),
                _ => {
                    push_char(&mut bytes, c);
                    significant = bytes.len();
                }
            }
        }
        bytes.truncate(significant);
        let value = String::from_utf8(bytes).map_err(|_| DnProblem::InvalidEscape)?;
        if value.is_empty() {
            return Err(DnProblem::EmptyValue { attribute });
        }
        if attributes.iter().any(|(t, _)| *t == attribute) {
            return Err(DnProblem::DuplicateAttribute { attribute });
        }
        attributes.push((attribute, value));
        if !more {
            return Ok(DistinguishedName { attributes });
        }
    }
}

fn push_char(bytes: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | ';' | '\\' | '+' | '"' | '<' | '>')
            || edge_space
            || (c == '#' && i == 0)
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(dn: &DistinguishedName) -> Vec<(&str, &str)> {
        dn.attributes()
            .iter()
            .map(|(t, v)| (t.as_str(), v.as_str()))
            .collect()
    }

    fn problem(dn: &str) -> DnProblem {
        match DistinguishedName::parse(dn) {
            Err(Error::InvalidDistinguishedName { problem, .. }) => problem,
            other => panic!("expected a DN error for {dn:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_spec_example() {
        let dn = DistinguishedName::parse_trusted(
            "C=US, ST=WA, L=Seattle, O=acme-rockets.io, OU=Finance, CN=SecureBuilder",
        )
        .unwrap();
        assert_eq!(
            attrs(&dn),
            [
                ("C", "US"),
                ("ST", "WA"),
                ("L", "Seattle"),
                ("O", "acme-rockets.io"),
                ("OU", "Finance"),
                ("CN", "SecureBuilder")
            ]
        );
        assert_eq!(dn.get("cn"), Some("SecureBuilder"));
        assert_eq!(dn.get("S"), Some("WA"));
    }

    #[test]
    fn spaces_around_types_values_and_separators_are_ignored() {
        let dn = DistinguishedName::parse("  C = US ;ST=WA,O=acme  ").unwrap();
        assert_eq!(attrs(&dn), [("C", "US"), ("ST", "WA"), ("O", "acme")]);
        // Inner spaces are kept.
        let dn = DistinguishedName::parse("O=Wabbit  Networks").unwrap();
        assert_eq!(dn.get("O"), Some("Wabbit  Networks"));
    }

    #[test]
    fn types_are_case_insensitive_and_s_is_st() {
        let dn = DistinguishedName::parse("c=US, s=WA, o=acme, Cn=x").unwrap();
        assert_eq!(
            attrs(&dn),
            [("C", "US"), ("ST", "WA"), ("O", "acme"), ("CN", "x")]
        );
        assert_eq!(
            problem("ST=WA, S=OR"),
            DnProblem::DuplicateAttribute {
                attribute: "ST".into()
            }
        );
    }

    #[test]
    fn oid_types_are_accepted() {
        let dn = DistinguishedName::parse("2.5.4.3=builder, O=x").unwrap();
        assert_eq!(dn.get("2.5.4.3"), Some("builder"));
        assert!(matches!(
            problem("2..5=x"),
            DnProblem::InvalidAttributeType { .. }
        ));
    }

    #[test]
    fn escapes_of_the_spec() {
        let dn = DistinguishedName::parse(r"O=a\,b\;c\\d, OU=\ lead, CN=trail\ ").unwrap();
        assert_eq!(dn.get("O"), Some(r"a,b;c\d"));
        assert_eq!(dn.get("OU"), Some(" lead"));
        assert_eq!(dn.get("CN"), Some("trail "));
    }

    #[test]
    fn other_escapes_and_hex_pairs() {
        let dn =
            DistinguishedName::parse(r#"O=\+\"\<\>\=\#, CN=caf\C3\A9, OU=\23x, L=a\2Cb"#).unwrap();
        assert_eq!(dn.get("O"), Some(r#"+"<>=#"#));
        assert_eq!(dn.get("CN"), Some("café"));
        assert_eq!(dn.get("OU"), Some("#x"));
        assert_eq!(dn.get("L"), Some("a,b"));
    }

    #[test]
    fn escaped_space_inside_trailing_spaces_keeps_up_to_it() {
        let dn = DistinguishedName::parse(r"CN=x\  , O=y").unwrap();
        assert_eq!(dn.get("CN"), Some("x "));
    }

    #[test]
    fn invalid_escapes_are_refused() {
        assert_eq!(problem(r"CN=a\q"), DnProblem::InvalidEscape);
        assert_eq!(problem(r"CN=a\4"), DnProblem::InvalidEscape);
        assert_eq!(problem(r"CN=a\4g"), DnProblem::InvalidEscape);
        assert_eq!(problem(r"CN=a\"), DnProblem::InvalidEscape);
        assert_eq!(problem(r"CN=\FF"), DnProblem::InvalidEscape);
    }

    #[test]
    fn structural_errors() {
        assert_eq!(problem(""), DnProblem::Empty);
        assert_eq!(problem("   "), DnProblem::Empty);
        assert_eq!(problem("C=US,, O=x"), DnProblem::EmptyRdn);
        assert_eq!(problem(", C=US"), DnProblem::EmptyRdn);
        assert_eq!(problem("C=US, "), DnProblem::EmptyRdn);
        assert_eq!(problem("C=US, O"), DnProblem::MissingEquals);
        assert_eq!(problem("CUS, O=x"), DnProblem::MissingEquals);
        assert_eq!(problem("C=US+O=x"), DnProblem::MultiValuedRdn);
        assert_eq!(
            problem("=US"),
            DnProblem::InvalidAttributeType {
                attribute: String::new()
            }
        );
        assert_eq!(
            problem("C_x=US"),
            DnProblem::InvalidAttributeType {
                attribute: "C_x".into()
            }
        );
        assert_eq!(
            problem("C=US, O= "),
            DnProblem::EmptyValue {
                attribute: "O".into()
            }
        );
        assert_eq!(
            problem("C=#0403"),
            DnProblem::HexValue {
                attribute: "C".into()
            }
        );
        assert_eq!(
            problem("O=a, O=b"),
            DnProblem::DuplicateAttribute {
                attribute: "O".into()
            }
        );
    }

    #[test]
    fn trusted_dns_need_c_st_and_o() {
        for (dn, missing) in [
            ("ST=WA, O=acme", "C"),
            ("C=US, O=acme", "ST"),
            ("C=US, ST=WA, CN=x", "O"),
        ] {
            let err = DistinguishedName::parse_trusted(dn).unwrap_err();
            assert_eq!(
                err,
                Error::InvalidDistinguishedName {
                    dn: dn.into(),
                    problem: DnProblem::MissingMandatory { attribute: missing }
                }
            );
            assert!(err.to_string().contains(missing));
        }
        assert!(DistinguishedName::parse_trusted("C=US, S=WA, O=acme").is_ok());
    }

    #[test]
    fn display_round_trips() {
        for dn in [
            r"C=US, ST=WA, O=a\,b\;c\\d, OU=\ lead, CN=trail\ ",
            r#"C=US, O=\+\"\<\>, CN=\#x"#,
        ] {
            let parsed = DistinguishedName::parse(dn).unwrap();
            let shown = parsed.to_string();
            assert_eq!(DistinguishedName::parse(&shown).unwrap(), parsed, "{shown}");
        }
    }

    fn subject() -> Vec<(&'static str, &'static str)> {
        vec![
            ("C", "US"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "acme-rockets.io"),
            ("OU", "Finance"),
            ("CN", "SecureBuilder"),
        ]
    }

    #[test]
    fn partial_dn_match() {
        let dn = DistinguishedName::parse("C=US, ST=WA, O=acme-rockets.io").unwrap();
        assert!(dn.matches_subject(&subject()));
        let full = DistinguishedName::parse(
            "C=US, ST=WA, L=Seattle, O=acme-rockets.io, OU=Finance, CN=SecureBuilder",
        )
        .unwrap();
        assert!(full.matches_subject(&subject()));
        // Order does not matter.
        let reordered =
            DistinguishedName::parse("CN=SecureBuilder, O=acme-rockets.io, C=US, ST=WA").unwrap();
        assert!(reordered.matches_subject(&subject()));
    }

    #[test]
    fn mismatches() {
        for dn in [
            "C=US, ST=WA, O=acme-rockets.io, CN=Other",
            "C=US, ST=OR, O=acme-rockets.io",
            "C=US, ST=WA, O=ACME-ROCKETS.IO",
            "C=US, ST=WA, O=acme-rockets.io, STREET=x",
        ] {
            let dn = DistinguishedName::parse(dn).unwrap();
            assert!(!dn.matches_subject(&subject()), "{dn}");
        }
    }

    #[test]
    fn subject_names_are_normalised_and_repeats_are_ambiguous() {
        let dn = DistinguishedName::parse("C=US, ST=WA, O=acme, OU=a").unwrap();
        let lower = [("c", "US"), ("S", "WA"), ("o", "acme"), ("ou", "a")];
        assert!(dn.matches_subject(&lower));
        let repeated = [
            ("C", "US"),
            ("ST", "WA"),
            ("O", "acme"),
            ("OU", "a"),
            ("OU", "b"),
        ];
        assert!(!dn.matches_subject(&repeated));
        // A repeat of an attribute the identity does not constrain is fine.
        let dn = DistinguishedName::parse("C=US, ST=WA, O=acme").unwrap();
        assert!(dn.matches_subject(&repeated));
        let owned: Vec<(String, String)> = repeated
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert!(dn.matches_subject(&owned));
    }

    #[test]
    fn wildcard_matches_everything() {
        let empty: [(&str, &str); 0] = [];
        assert!(TrustedIdentity::Any.matches(&empty));
        assert!(TrustedIdentity::Any.matches(&subject()));
        let id =
            TrustedIdentity::parse_in_policy("p", "x509.subject: C=US, ST=WA, O=acme-rockets.io")
                .unwrap();
        assert!(id.matches(&subject()));
        assert!(!id.matches(&empty));
        assert_eq!(
            id.to_string(),
            "x509.subject: C=US, ST=WA, O=acme-rockets.io"
        );
    }

    #[test]
    fn identity_entry_errors_name_the_policy() {
        let err = TrustedIdentity::parse_in_policy("prod", "x509.san: foo").unwrap_err();
        assert!(matches!(err, Error::UnsupportedIdentity { .. }));
        assert!(err.to_string().contains("\"prod\""));
        let err = TrustedIdentity::parse_in_policy("prod", "C=US, ST=WA, O=x").unwrap_err();
        assert!(matches!(err, Error::UnsupportedIdentity { .. }));
        let err =
            TrustedIdentity::parse_in_policy("prod", "X509.SUBJECT: C=US, ST=WA, O=x").unwrap_err();
        assert!(matches!(err, Error::UnsupportedIdentity { .. }));
        let err = TrustedIdentity::parse_in_policy("prod", "").unwrap_err();
        assert_eq!(
            err,
            Error::EmptyTrustedIdentity {
                policy: "prod".into()
            }
        );
        let err = TrustedIdentity::parse_in_policy("prod", "x509.subject:").unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidTrustedIdentity {
                problem: DnProblem::Empty,
                ..
            }
        ));
        let err = TrustedIdentity::parse_in_policy("prod", "x509.subject: C=US, O=x").unwrap_err();
        assert!(err.to_string().contains("trustedIdentities"));
        assert!(err.to_string().contains("ST"));
    }
}

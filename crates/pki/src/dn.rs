//! Distinguished names written as openssl's `-subj` argument: `/C=ES/ST=Valencia/O=IT/CN=Name`.
//!
//! The syntax is openssl's: a leading `/`, then `TYPE=value` pairs separated by `/`; a
//! backslash escapes the next character (`\/` is a literal slash, `\\` a backslash). The value
//! runs to the next unescaped `/`, so it may contain `=`. The attribute types are C, ST, L, O,
//! OU, CN, emailAddress, serialNumber, DC and UID (matched without regard to case). Unlike
//! openssl, an empty value or an unknown type is an error, never a warning. The order is kept
//! as written (the first attribute is the first RDN of the encoded name, as openssl does).
//!
//! Values are encoded as openssl encodes them by default: `C` and `serialNumber` as
//! PrintableString, `emailAddress` and `DC` as IA5String, everything else as UTF8String; the
//! size limits of RFC 5280's upper bounds (and openssl's) are checked here.

use std::fmt;
use std::str::FromStr;

use crate::issue::IssueError;

/// An attribute type of a distinguished name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    /// `C`, countryName (2.5.4.6): two letters, PrintableString.
    Country,
    /// `ST`, stateOrProvinceName (2.5.4.8).
    StateOrProvince,
    /// `L`, localityName (2.5.4.7).
    Locality,
    /// `O`, organizationName (2.5.4.10).
    Organization,
    /// `OU`, organizationalUnitName (2.5.4.11).
    OrganizationalUnit,
    /// `CN`, commonName (2.5.4.3).
    CommonName,
    /// `emailAddress` (PKCS#9, 1.2.840.113549.1.9.1), IA5String.
    EmailAddress,
    /// `serialNumber` (2.5.4.5), PrintableString.
    SerialNumber,
    /// `DC`, domainComponent (0.9.2342.19200300.100.1.25), IA5String.
    DomainComponent,
    /// `UID`, userId (0.9.2342.19200300.100.1.1).
    UserId,
}

/// How an attribute value is encoded in DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringKind {
    /// PrintableString: `A-Z a-z 0-9 '()+,-./:=?` and space.
    Printable,
    /// IA5String: ASCII.
    Ia5,
    /// UTF8String.
    Utf8,
}

impl AttributeType {
    /// Every attribute type, in the order of the module documentation.
    pub const ALL: [AttributeType; 10] = [
        AttributeType::Country,
        AttributeType::StateOrProvince,
        AttributeType::Locality,
        AttributeType::Organization,
        AttributeType::OrganizationalUnit,
        AttributeType::CommonName,
        AttributeType::EmailAddress,
        AttributeType::SerialNumber,
        AttributeType::DomainComponent,
        AttributeType::UserId,
    ];

    /// The short name openssl uses (`C`, `ST`, …, `emailAddress`).
    pub fn short_name(self) -> &'static str {
        match self {
            AttributeType::Country => "C",
            AttributeType::StateOrProvince => "ST",
            AttributeType::Locality => "L",
            AttributeType::Organization => "O",
            AttributeType::OrganizationalUnit => "OU",
            AttributeType::CommonName => "CN",
            AttributeType::EmailAddress => "emailAddress",
            AttributeType::SerialNumber => "serialNumber",
            AttributeType::DomainComponent => "DC",
            AttributeType::UserId => "UID",
        }
    }

    /// The object identifier's arcs.
    pub fn oid(self) -> &'static [u64] {
        match self {
            AttributeType::Country => &[2, 5, 4, 6],
            AttributeType::StateOrProvince => &[2, 5, 4, 8],
            AttributeType::Locality => &[2, 5, 4, 7],
            AttributeType::Organization => &[2, 5, 4, 10],
            AttributeType::OrganizationalUnit => &[2, 5, 4, 11],
            AttributeType::CommonName => &[2, 5, 4, 3],
            AttributeType::EmailAddress => &[1, 2, 840, 113549, 1, 9, 1],
            AttributeType::SerialNumber => &[2, 5, 4, 5],
            AttributeType::DomainComponent => &[0, 9, 2342, 19200300, 100, 1, 25],
            AttributeType::UserId => &[0, 9, 2342, 19200300, 100, 1, 1],
        }
    }

    /// The attribute type with this OID, if it is one of ours.
    pub fn from_oid(arcs: &[u64]) -> Option<AttributeType> {
        AttributeType::ALL.into_iter().find(|t| t.oid() == arcs)
    }

    /// The DER string type openssl uses for this attribute by default.
    pub fn string_kind(self) -> StringKind {
        match self {
            AttributeType::Country | AttributeType::SerialNumber => StringKind::Printable,
            AttributeType::EmailAddress | AttributeType::DomainComponent => StringKind::Ia5,
            _ => StringKind::Utf8,
        }
    }

    /// The largest number of characters allowed (RFC 5280 upper bounds).
    fn max_len(self) -> usize {
        match self {
            AttributeType::Country => 2,
            AttributeType::CommonName
            | AttributeType::Organization
            | AttributeType::OrganizationalUnit
            | AttributeType::SerialNumber => 64,
            AttributeType::StateOrProvince | AttributeType::Locality => 128,
            AttributeType::EmailAddress => 255,
            AttributeType::DomainComponent | AttributeType::UserId => 256,
        }
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

impl FromStr for AttributeType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        AttributeType::ALL
            .into_iter()
            .find(|t| t.short_name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown attribute type {s:?} (use one of {})",
                    AttributeType::ALL.map(AttributeType::short_name).join(", ")
                )
            })
    }
}

fn is_printable(c: char) -> bool {
    c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c)
}

/// A distinguished name: attribute type and value pairs in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    entries: Vec<(AttributeType, String)>,
}

impl DistinguishedName {
    /// An empty name.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses openssl `-subj` syntax (see the module documentation).
    pub fn parse(input: &str) -> Result<Self, IssueError> {
        let invalid = |reason: String| IssueError::InvalidDn {
            input: input.to_owned(),
            reason,
        };
        let Some(rest) = input.strip_prefix('/') else {
            return Err(invalid(
                "it must start with '/', as in /C=ES/O=IT/CN=Name".to_owned(),
            ));
        };
        // Split on unescaped '/', resolving escapes.
        let mut parts: Vec<String> = Vec::new();
        let mut current = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(next) => current.push(next),
                    None => return Err(invalid("it ends with a lone backslash".to_owned())),
                },
                '/' => parts.push(std::mem::take(&mut current)),
                c => current.push(c),
            }
        }
        parts.push(current);
        // A trailing '/' (as in "/CN=x/") leaves an empty last part: ignore it as openssl does.
        if parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
            parts.pop();
        }
        let mut dn = DistinguishedName::new();
        if parts == [""] {
            return Err(invalid("it has no attributes".to_owned()));
        }
        for part in parts {
            if part.is_empty() {
                return Err(invalid("it contains an empty attribute ('//')".to_owned()));
            }
            let Some((name, value)) = part.split_once('=') else {
                return Err(invalid(format!("{part:?} is not TYPE=value (missing '=')")));
            };
            let ty: AttributeType = name.trim().parse().map_err(invalid)?;
            dn.push(ty, value).map_err(invalid)?;
        }
        if dn.is_empty() {
            return Err(invalid("it has no attributes".to_owned()));
        }
        Ok(dn)
    }

    /// Appends an attribute, checking the value (non-empty, character set, length).
    pub fn push(&mut self, ty: AttributeType, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Err(format!("{ty} has an empty value"));
        }
        if value.chars().any(char::is_control) {
            return Err(format!("{ty} contains a control character"));
        }
        let len = value.chars().count();
        if len > ty.max_len() {
            return Err(format!(
                "{ty} is {len} characters long (at most {} allowed)",
                ty.max_len()
            ));
        }
        match ty.string_kind() {
            StringKind::Printable => {
                if let Some(bad) = value.chars().find(|c| !is_printable(*c)) {
                    return Err(format!(
                        "{ty} may contain only letters, digits, space and '()+,-./:=? (not {bad:?})"
                    ));
                }
            }
            StringKind::Ia5 => {
                if !value.is_ascii() {
                    return Err(format!("{ty} must be ASCII"));
                }
            }
            StringKind::Utf8 => {}
        }
        if ty == AttributeType::Country && len != 2 {
            return Err(format!(
                "C must be a two-letter country code, not {value:?}"
            ));
        }
        self.entries.push((ty, value.to_owned()));
        Ok(())
    }

    /// The attributes in order.
    pub fn entries(&self) -> &[(AttributeType, String)] {
        &self.entries
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first value of an attribute type.
    pub fn get(&self, ty: AttributeType) -> Option<&str> {
        self.entries
            .iter()
            .find(|(t, _)| *t == ty)
            .map(|(_, v)| v.as_str())
    }

    /// The common name, if any.
    pub fn common_name(&self) -> Option<&str> {
        self.get(AttributeType::CommonName)
    }

    /// The `-subj` form, escaping `/` and `\` in values: `/C=ES/O=IT/CN=Name`.
    pub fn to_subj(&self) -> String {
        let mut out = String::new();
        for (ty, value) in &self.entries {
            out.push('/');
            out.push_str(ty.short_name());
            out.push('=');
            for c in value.chars() {
                if c == '/' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        out
    }

    /// openssl 3's default one-line form (`openssl x509 -subject -noout`):
    /// `C = ES, ST = Valencia, O = IT, CN = Name` (values with `,`, `+`, `"`, `\`, `<`, `>`, `;`
    /// or surrounding spaces quoted or escaped as openssl's RFC 2253-style printing does).
    pub fn to_oneline(&self) -> String {
        self.entries
            .iter()
            .map(|(ty, value)| format!("{} = {}", ty.short_name(), escape_oneline(value)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn escape_oneline(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || edge_space
            || (i == 0 && c == '#')
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Printed in openssl's one-line form (see [`DistinguishedName::to_oneline`]).
impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_oneline())
    }
}

impl FromStr for DistinguishedName {
    type Err = IssueError;

    fn from_str(s: &str) -> Result<Self, IssueError> {
        DistinguishedName::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::AttributeType as T;
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("/CN=Name", &[(T::CommonName, "Name")])]
    #[case(
        "/C=ES/ST=Valencia/L=Valencia/O=IT/OU=Security/CN=Linuxera Root Certificate Authority",
        &[(T::Country, "ES"), (T::StateOrProvince, "Valencia"), (T::Locality, "Valencia"),
          (T::Organization, "IT"), (T::OrganizationalUnit, "Security"),
          (T::CommonName, "Linuxera Root Certificate Authority")]
    )]
    #[case("/CN=a\\/b", &[(T::CommonName, "a/b")])]
    #[case("/CN=back\\\\slash", &[(T::CommonName, "back\\slash")])]
    #[case("/CN=x=y", &[(T::CommonName, "x=y")])]
    #[case("/CN=trailing/", &[(T::CommonName, "trailing")])]
    #[case("/cn=lower/o=Org", &[(T::CommonName, "lower"), (T::Organization, "Org")])]
    #[case("/CN=Ünïcödé ✓", &[(T::CommonName, "Ünïcödé ✓")])]
    #[case(
        "/DC=org/DC=example/UID=jdoe/emailAddress=a@b.org/serialNumber=1234",
        &[(T::DomainComponent, "org"), (T::DomainComponent, "example"), (T::UserId, "jdoe"),
          (T::EmailAddress, "a@b.org"), (T::SerialNumber, "1234")]
    )]
    #[case("/O=IT/CN=Name/OU=Order kept", &[(T::Organization, "IT"), (T::CommonName, "Name"),
        (T::OrganizationalUnit, "Order kept")])]
    fn parses(#[case] input: &str, #[case] expected: &[(AttributeType, &str)]) {
        let dn = DistinguishedName::parse(input).unwrap();
        let got: Vec<(AttributeType, &str)> =
            dn.entries().iter().map(|(t, v)| (*t, v.as_str())).collect();
        assert_eq!(got, expected);
        // The -subj form round-trips.
        assert_eq!(DistinguishedName::parse(&dn.to_subj()).unwrap(), dn);
    }

    #[rstest]
    #[case("", "must start with '/'")]
    #[case("CN=Name", "must start with '/'")]
    #[case("/", "no attributes")]
    #[case("/CN=", "CN has an empty value")]
    #[case("/C=ES/CN=", "CN has an empty value")]
    #[case("/XX=1", "unknown attribute type \"XX\"")]
    #[case("/CN=a//O=b", "empty attribute")]
    #[case("/CN", "missing '='")]
    #[case("/CN=a\\", "lone backslash")]
    #[case("/C=ESP", "at most 2")]
    #[case("/C=E", "two-letter")]
    #[case("/C=É1", "only letters")]
    #[case("/serialNumber=a_b", "only letters")]
    #[case("/emailAddress=é@x", "ASCII")]
    #[case("/CN=a\tb", "control character")]
    fn refuses(#[case] input: &str, #[case] reason: &str) {
        let err = DistinguishedName::parse(input).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(reason), "{input:?}: {text}");
        assert!(
            text.contains(&format!("{input:?}")),
            "names the input: {text}"
        );
    }

    #[test]
    fn cn_length_limit() {
        let ok = format!("/CN={}", "x".repeat(64));
        assert!(DistinguishedName::parse(&ok).is_ok());
        let long = format!("/CN={}", "x".repeat(65));
        assert!(
            DistinguishedName::parse(&long)
                .unwrap_err()
                .to_string()
                .contains("at most 64")
        );
    }

    #[test]
    fn oneline_form() {
        let dn = DistinguishedName::parse("/C=ES/ST=Valencia/O=IT, Inc./CN= spaced ").unwrap();
        assert_eq!(
            dn.to_string(),
            "C = ES, ST = Valencia, O = IT\\, Inc., CN = \\ spaced\\ "
        );
        assert_eq!(dn.to_subj(), "/C=ES/ST=Valencia/O=IT, Inc./CN= spaced ");
        assert_eq!(dn.common_name(), Some(" spaced "));
    }

    #[test]
    fn oids_round_trip() {
        for t in AttributeType::ALL {
            assert_eq!(AttributeType::from_oid(t.oid()), Some(t));
            assert_eq!(t.short_name().parse::<AttributeType>().unwrap(), t);
        }
    }
}

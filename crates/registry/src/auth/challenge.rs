//! Parsing of `WWW-Authenticate` headers (RFC 7235): one or more challenges, each a scheme and
//! comma-separated `name=value` parameters whose values may be quoted strings containing commas
//! and escaped quotes, e.g. `Bearer realm="https://auth.example/token",service="reg",
//! scope="repository:a/b:pull,push"`.

use std::collections::BTreeMap;

/// One authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme, lower-cased (`bearer`, `basic`).
    pub scheme: String,
    /// The parameters; names lower-cased, values unquoted.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter by (lower-case) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Whether this is a `Bearer` challenge.
    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    /// Whether this is a `Basic` challenge.
    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

/// Parses a `WWW-Authenticate` header value into its challenges (empty if there are none).
/// Malformed trailing parts are ignored rather than failing the whole header.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip(|c| c == b' ' || c == b'\t' || c == b',');
        let scheme = p.token();
        if scheme.is_empty() {
            break;
        }
        let mut params = BTreeMap::new();
        loop {
            p.skip(|c| c == b' ' || c == b'\t' || c == b',');
            let save = p.i;
            let name = p.token();
            if name.is_empty() {
                break;
            }
            p.skip(|c| c == b' ' || c == b'\t');
            if p.peek() != Some(b'=') {
                // The start of the next challenge (or a token68 we do not use).
                p.i = save;
                break;
            }
            p.i += 1;
            p.skip(|c| c == b' ' || c == b'\t');
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token()
            };
            params.insert(name.to_ascii_lowercase(), value);
        }
        out.push(Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        });
        if p.i >= p.s.len() {
            break;
        }
        // Guard against a stuck position on unexpected bytes.
        if p.peek()
            .is_some_and(|c| !is_tchar(c) && c != b',' && c != b' ' && c != b'\t')
        {
            p.i += 1;
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> String {
        let start = self.i;
        self.skip(is_tchar);
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn quoted(&mut self) -> String {
        // At the opening quote.
        self.i += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn one(h: &str) -> Challenge {
        let c = parse(h);
        assert_eq!(c.len(), 1, "{h}: {c:?}");
        c.into_iter().next().unwrap()
    }

    #[test]
    fn docker_hub_bearer() {
        let c = one(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        assert!(c.is_bearer());
        assert_eq!(c.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(c.param("service"), Some("registry.docker.io"));
        assert_eq!(
            c.param("scope"),
            Some("repository:samalba/my-app:pull,push")
        );
    }

    #[rstest]
    #[case(r#"Basic realm="Registry Realm""#, "basic", "realm", "Registry Realm")]
    #[case(r#"basic realm=registry"#, "basic", "realm", "registry")]
    #[case(
        r#"BEARER Realm = "http://x/t" , service="s""#,
        "bearer",
        "realm",
        "http://x/t"
    )]
    #[case(r#"Bearer realm="a\"b,c""#, "bearer", "realm", "a\"b,c")]
    #[case(
        r#"Bearer error="insufficient_scope",realm="r",scope="repository:x:pull""#,
        "bearer",
        "error",
        "insufficient_scope"
    )]
    fn single(#[case] h: &str, #[case] scheme: &str, #[case] name: &str, #[case] value: &str) {
        let c = one(h);
        assert_eq!(c.scheme, scheme);
        assert_eq!(c.param(name), Some(value), "{c:?}");
    }

    #[test]
    fn several_challenges() {
        let c = parse(r#"Basic realm="b", Bearer realm="https://t/token",service="s,x""#);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[0].is_basic());
        assert_eq!(c[0].param("realm"), Some("b"));
        assert!(c[1].is_bearer());
        assert_eq!(c[1].param("service"), Some("s,x"));
    }

    #[test]
    fn scheme_without_params_and_garbage() {
        assert_eq!(parse("Basic").len(), 1);
        assert!(parse("").is_empty());
        assert!(parse("   ,, ").is_empty());
        // Unterminated quote: take what is there.
        assert_eq!(one(r#"Bearer realm="abc"#).param("realm"), Some("abc"));
        // Junk bytes do not loop forever.
        let _ = parse("Bearer realm=\"x\" @@@ ;;; Basic");
    }
}

//! The bearer token: given literally, as `@FILE` (with a warning when the file is readable by
//! group or others) or `@-` (standard input), else from `SIGNET_TOKEN`. [`Secret`] never shows
//! its value in `Debug` output, so neither clap's nor our own debugging can leak it.

use std::io::Read;
use std::str::FromStr;

use anyhow::{Context, Result, bail};

/// The environment variable read when no `-t` is given.
pub const TOKEN_ENV: &str = "SIGNET_TOKEN";

/// A secret string (a token or a token reference); `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    #[cfg(test)]
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (the Authorization header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// Where a token comes from, resolved: the `-t` argument if given, else `SIGNET_TOKEN`.
/// `stdin` is read for `@-`; `warn` receives the permission warning.
pub fn resolve(
    arg: Option<&Secret>,
    env: Option<String>,
    stdin: &mut dyn Read,
    warn: &mut dyn FnMut(String),
) -> Result<Secret> {
    let (given, source) = match (arg, env) {
        (Some(a), _) => (a.expose().to_string(), "-t"),
        (None, Some(e)) if !e.trim().is_empty() => (e, TOKEN_ENV),
        _ => bail!(crate::remote::error::MissingToken),
    };
    let token = if given == "@-" {
        let mut s = String::new();
        stdin
            .read_to_string(&mut s)
            .context("reading the token from standard input")?;
        s
    } else if let Some(path) = given.strip_prefix('@') {
        if path.is_empty() {
            bail!("{source} @: give a file name after @ (or @- for standard input)");
        }
        check_permissions(path, warn);
        std::fs::read_to_string(path).with_context(|| format!("reading the token file {path}"))?
    } else {
        given
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        bail!("the token from {source} is empty");
    }
    if token.chars().any(|c| c.is_control() || c == ' ') {
        bail!(
            "the token from {source} contains spaces or control characters: give the bare token (without \"Bearer \")"
        );
    }
    Ok(Secret(token))
}

#[cfg(unix)]
fn check_permissions(path: &str, warn: &mut dyn FnMut(String)) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            warn(format!(
                "WARNING: the token file {path} is readable by group or others (mode {mode:04o}); restrict it with chmod 600 {path}"
            ));
        }
    }
}

#[cfg(not(unix))]
fn check_permissions(_path: &str, _warn: &mut dyn FnMut(String)) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(arg: Option<&str>, env: Option<&str>, stdin: &str) -> (Result<Secret>, Vec<String>) {
        let mut warnings = Vec::new();
        let secret = arg.map(Secret::new);
        let r = resolve(
            secret.as_ref(),
            env.map(str::to_string),
            &mut stdin.as_bytes(),
            &mut |w| warnings.push(w),
        );
        (r, warnings)
    }

    #[test]
    fn literal_env_and_stdin() {
        assert_eq!(run(Some("abc"), Some("env"), "").0.unwrap().expose(), "abc");
        assert_eq!(
            run(None, Some("env.tok"), "").0.unwrap().expose(),
            "env.tok"
        );
        assert_eq!(run(Some("@-"), None, "tok\n").0.unwrap().expose(), "tok");
        let e = run(None, None, "").0.unwrap_err();
        assert!(e.to_string().contains("-t"), "{e}");
        assert!(run(Some("@-"), None, "\n").0.is_err());
        assert!(run(Some("Bearer abc"), None, "").0.is_err());
    }

    #[cfg(unix)]
    #[test]
    fn file_and_permission_warning() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok");
        std::fs::write(&path, "file.tok\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let arg = format!("@{}", path.display());
        let (r, w) = run(Some(&arg), None, "");
        assert_eq!(r.unwrap().expose(), "file.tok");
        assert!(w.is_empty());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (r, w) = run(Some(&arg), None, "");
        assert_eq!(r.unwrap().expose(), "file.tok");
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("0644") && !w[0].contains("file.tok"), "{w:?}");
        let (r, _) = run(Some("@/nonexistent/tok"), None, "");
        assert!(r.unwrap_err().to_string().contains("/nonexistent/tok"));
    }

    #[test]
    fn debug_hides_the_value() {
        assert_eq!(format!("{:?}", Secret::new("s3cret")), "***");
    }
}

//! The notation configuration directory `{NOTATION_CONFIG}` and the paths inside it.
//!
//! notation sets `dir.UserConfigDir` from `$NOTATION_CONFIG` when it is non-empty
//! (`cmd/notation/main.go`); otherwise notation-go (`dir/path.go`) uses Go's
//! `os.UserConfigDir()` joined with `notation`: `$XDG_CONFIG_HOME/notation` (which must be
//! absolute) or `$HOME/.config/notation` on Linux, `$HOME/Library/Application Support/notation`
//! on macOS, `%AppData%\notation` on Windows, and `.notation` when none can be found.
//! Plugins live in `{NOTATION_LIBEXEC}/plugins` (`$NOTATION_LIBEXEC`, else the config dir).

use std::path::{Path, PathBuf};

/// `signingkeys.json`, relative to the config directory.
pub const SIGNING_KEYS: &str = "signingkeys.json";
/// The OCI trust policy file.
pub const OCI_TRUST_POLICY: &str = "trustpolicy.oci.json";
/// The deprecated trust policy file name notation still reads.
pub const LEGACY_TRUST_POLICY: &str = "trustpolicy.json";

/// Go's `os.UserConfigDir`, from an environment lookup.
fn user_config_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
    if cfg!(windows) {
        return non_empty("AppData").map(PathBuf::from);
    }
    if cfg!(target_os = "macos") {
        return non_empty("HOME").map(|h| Path::new(&h).join("Library/Application Support"));
    }
    match non_empty("XDG_CONFIG_HOME") {
        Some(x) if Path::new(&x).is_absolute() => Some(PathBuf::from(x)),
        Some(_) => None,
        None => non_empty("HOME").map(|h| Path::new(&h).join(".config")),
    }
}

/// The configuration directory notation uses given this environment.
pub fn config_dir_from(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = env("NOTATION_CONFIG").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    match user_config_dir(env) {
        Some(dir) => dir.join("notation"),
        None => PathBuf::from(".notation"),
    }
}

/// The notation directories of this process.
#[derive(Debug, Clone)]
pub struct NotationDirs {
    /// `{NOTATION_CONFIG}`.
    pub config: PathBuf,
    /// `{NOTATION_LIBEXEC}`.
    pub libexec: PathBuf,
}

impl NotationDirs {
    /// From the process environment.
    pub fn from_env() -> Self {
        let env = |k: &str| std::env::var(k).ok();
        let config = config_dir_from(&env);
        let libexec = env("NOTATION_LIBEXEC")
            .filter(|v| !v.is_empty())
            .map_or_else(|| config.clone(), PathBuf::from);
        NotationDirs { config, libexec }
    }

    /// A file directly in the config directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.config.join(name)
    }

    /// `truststore/x509`.
    pub fn x509_store_root(&self) -> PathBuf {
        self.config.join("truststore").join("x509")
    }

    /// The executable of plugin `name`: `{NOTATION_LIBEXEC}/plugins/NAME/notation-NAME`.
    pub fn plugin_executable(&self, name: &str) -> PathBuf {
        let exe = if cfg!(windows) {
            format!("notation-{name}.exe")
        } else {
            format!("notation-{name}")
        };
        self.libexec.join("plugins").join(name).join(exe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn resolution_order() {
        let d = |p: &[(&str, &str)]| config_dir_from(&env_of(p));
        assert_eq!(
            d(&[("NOTATION_CONFIG", "/n"), ("XDG_CONFIG_HOME", "/x")]),
            PathBuf::from("/n")
        );
        assert_eq!(
            d(&[
                ("NOTATION_CONFIG", ""),
                ("XDG_CONFIG_HOME", "/x"),
                ("HOME", "/h")
            ]),
            PathBuf::from("/x/notation")
        );
        assert_eq!(d(&[("HOME", "/h")]), PathBuf::from("/h/.config/notation"));
        assert_eq!(
            d(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")]),
            PathBuf::from(".notation")
        );
        assert_eq!(d(&[]), PathBuf::from(".notation"));
    }
}

//! containers-registries.d(5): where simple signatures of an image live (`lookaside`, read;
//! `lookaside-staging`, write) and whether sigstore attachments are used, per registry scope.
//!
//! Every `*.yaml` file of the configured directories is read and merged; a scope may be
//! configured only once across files. For an image, each setting comes from the most specific
//! scope that sets it — the reference with its tag or digest, the repository, each parent
//! namespace, the registry host — else from `default-docker`, as containers/image resolves
//! them. The old key names `sigstore` / `sigstore-staging` are still accepted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use signet_oci::Reference;

use crate::Error;

/// One scope's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScopeConfig {
    /// Where simple signatures are read from (and written to, without a staging location).
    #[serde(default)]
    pub lookaside: Option<String>,
    /// Where simple signatures are written to (`file://` only).
    #[serde(default)]
    pub lookaside_staging: Option<String>,
    /// Old name of `lookaside`.
    #[serde(default)]
    pub sigstore: Option<String>,
    /// Old name of `lookaside-staging`.
    #[serde(default)]
    pub sigstore_staging: Option<String>,
    /// Whether cosign-style `.sig` attachments are read and written.
    #[serde(default)]
    pub use_sigstore_attachments: Option<bool>,
}

impl ScopeConfig {
    /// The read location.
    pub fn read_location(&self) -> Option<&str> {
        self.lookaside.as_deref().or(self.sigstore.as_deref())
    }

    /// The write location: staging if set, else the read location.
    pub fn write_location(&self) -> Option<&str> {
        self.lookaside_staging
            .as_deref()
            .or(self.sigstore_staging.as_deref())
            .or_else(|| self.read_location())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    default_docker: Option<ScopeConfig>,
    #[serde(default)]
    docker: BTreeMap<String, ScopeConfig>,
}

/// The merged configuration of one or more registries.d directories.
#[derive(Debug, Clone, Default)]
pub struct RegistriesD {
    default_docker: Option<ScopeConfig>,
    scopes: BTreeMap<String, ScopeConfig>,
}

/// The effective settings for one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureStorage {
    /// Which scope matched (`default-docker` or the scope string), if any.
    pub scope: Option<String>,
    /// The settings.
    pub config: ScopeConfig,
}

impl RegistriesD {
    /// Reads every `*.yaml` file of `dirs` (missing directories are skipped).
    pub fn load(dirs: &[PathBuf]) -> Result<Self, Error> {
        let mut out = RegistriesD::default();
        for dir in dirs {
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error(dir, e)),
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
                out.merge(&path, &text)?;
            }
        }
        Ok(out)
    }

    /// Parses one file's text into the configuration.
    pub fn merge(&mut self, path: &Path, text: &str) -> Result<(), Error> {
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_norway::from_str(text).map_err(|e| Error::RegistriesD {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?
        };
        if let Some(d) = file.default_docker {
            if self.default_docker.is_some() {
                return Err(Error::RegistriesD {
                    path: path.to_path_buf(),
                    reason: "default-docker is configured more than once".to_string(),
                });
            }
            self.default_docker = Some(d);
        }
        for (scope, config) in file.docker {
            if self.scopes.insert(scope.clone(), config).is_some() {
                return Err(Error::RegistriesD {
                    path: path.to_path_buf(),
                    reason: format!("scope {scope:?} is configured more than once"),
                });
            }
        }
        Ok(())
    }

    /// The settings for `image`. As containers/image resolves them, each setting comes from
    /// the most specific scope that sets it (`repo:tag` or `repo@digest`, the repository, its
    /// namespaces, the host), else from `default-docker`: a scope that only enables
    /// attachments keeps the lookaside a parent or `default-docker` names.
    pub fn lookup(&self, image: &Reference) -> SignatureStorage {
        let chain: Vec<(String, &ScopeConfig)> = scopes_of(image)
            .into_iter()
            .filter_map(|s| self.scopes.get(&s).map(|c| (s, c)))
            .chain(
                self.default_docker
                    .as_ref()
                    .map(|c| ("default-docker".to_string(), c)),
            )
            .collect();
        let first =
            |get: &dyn Fn(&ScopeConfig) -> Option<String>| chain.iter().find_map(|(_, c)| get(c));
        // Within one scope, the new key names win over the old ones.
        let read = first(&|c: &ScopeConfig| c.read_location().map(str::to_string));
        let staging = first(&|c: &ScopeConfig| {
            c.lookaside_staging
                .clone()
                .or_else(|| c.sigstore_staging.clone())
        });
        let attachments = chain.iter().find_map(|(_, c)| c.use_sigstore_attachments);
        SignatureStorage {
            scope: chain.first().map(|(s, _)| s.clone()),
            config: ScopeConfig {
                lookaside: read,
                lookaside_staging: staging,
                sigstore: None,
                sigstore_staging: None,
                use_sigstore_attachments: attachments,
            },
        }
    }
}

/// Candidate scopes, most specific first: `repo:tag` (when tagged), the repository, its
/// parent namespaces, the registry host. Docker Hub images are spelled `docker.io/…`, as
/// containers/image names them.
fn scopes_of(image: &Reference) -> Vec<String> {
    let registry = match image.registry() {
        signet_oci::DEFAULT_REGISTRY => "docker.io",
        r => r,
    };
    let repo = format!("{registry}/{}", image.repository());
    let mut out = Vec::new();
    if let Some(digest) = image.digest() {
        out.push(format!("{repo}@{digest}"));
    } else if let Some(tag) = image.tag() {
        out.push(format!("{repo}:{tag}"));
    }
    let mut current = repo.as_str();
    loop {
        out.push(current.to_string());
        match current.rsplit_once('/') {
            Some((parent, _)) => current = parent,
            None => break,
        }
    }
    out
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::RegistriesD {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(files: &[&str]) -> RegistriesD {
        let mut d = RegistriesD::default();
        for (i, f) in files.iter().enumerate() {
            d.merge(Path::new(&format!("f{i}.yaml")), f).unwrap();
        }
        d
    }

    #[test]
    fn most_specific_scope_wins() {
        let d = config(&[
            "default-docker:\n  lookaside: file:///default\n",
            "docker:\n  registry.example:5000:\n    lookaside: https://host/sigs\n  registry.example:5000/team:\n    lookaside: file:///team\n    use-sigstore-attachments: true\n  registry.example:5000/team/app:v1:\n    sigstore: file:///old-name\n",
        ]);
        let look = |s: &str| d.lookup(&s.parse().unwrap());
        assert_eq!(
            look("registry.example:5000/team/app:v1")
                .config
                .read_location(),
            Some("file:///old-name")
        );
        let team = look("registry.example:5000/team/app:v2");
        assert_eq!(team.scope.as_deref(), Some("registry.example:5000/team"));
        assert_eq!(team.config.read_location(), Some("file:///team"));
        assert_eq!(team.config.use_sigstore_attachments, Some(true));
        assert_eq!(
            look("registry.example:5000/other").config.read_location(),
            Some("https://host/sigs")
        );
        assert_eq!(look("ghcr.io/x/y").scope.as_deref(), Some("default-docker"));
    }

    #[test]
    fn each_setting_falls_back_separately() {
        let d = config(&[
            "default-docker:\n  lookaside: file:///default\n",
            "docker:\n  registry.example:\n    use-sigstore-attachments: true\n  registry.example/team:\n    lookaside-staging: file:///stage\n",
        ]);
        let s = d.lookup(&"registry.example/team/app:v1".parse().unwrap());
        assert_eq!(s.scope.as_deref(), Some("registry.example/team"));
        assert_eq!(s.config.read_location(), Some("file:///default"));
        assert_eq!(s.config.write_location(), Some("file:///stage"));
        assert_eq!(s.config.use_sigstore_attachments, Some(true));
    }

    #[test]
    fn digest_references_have_their_own_scope() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let d = config(&[&format!(
            "docker:\n  registry.example/app@{digest}:\n    lookaside: file:///pinned\n"
        )]);
        let r: Reference = format!("registry.example/app@{digest}").parse().unwrap();
        assert_eq!(d.lookup(&r).config.read_location(), Some("file:///pinned"));
    }

    #[test]
    fn docker_hub_is_spelled_docker_io() {
        let d = config(&["docker:\n  docker.io/library/busybox:\n    lookaside: file:///bb\n"]);
        assert_eq!(
            d.lookup(&"busybox".parse().unwrap()).config.read_location(),
            Some("file:///bb")
        );
    }

    #[test]
    fn staging_falls_back_to_lookaside() {
        let d =
            config(&["default-docker:\n  lookaside: file:///r\n  lookaside-staging: file:///w\n"]);
        let s = d.lookup(&"x/y".parse().unwrap());
        assert_eq!(s.config.write_location(), Some("file:///w"));
        let d = config(&["default-docker:\n  lookaside: file:///r\n"]);
        assert_eq!(
            d.lookup(&"x/y".parse().unwrap()).config.write_location(),
            Some("file:///r")
        );
    }

    #[test]
    fn strict_parsing() {
        let mut d = RegistriesD::default();
        assert!(
            d.merge(
                Path::new("a.yaml"),
                "default-docker:\n  lookasid: file:///typo\n"
            )
            .is_err()
        );
        let mut d = config(&["docker:\n  a.example:\n    lookaside: file:///a\n"]);
        let e = d
            .merge(
                Path::new("b.yaml"),
                "docker:\n  a.example:\n    lookaside: file:///b\n",
            )
            .unwrap_err();
        assert!(e.to_string().contains("more than once"), "{e}");
    }
}

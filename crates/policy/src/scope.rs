//! Transports, image names and the scope lookup of `PolicyContext.requirementsForImageRef`.

use std::fmt;

use serde::Serialize;

use crate::model::{Policy, Requirement};
use crate::reference::{DockerReference, parse_digest};

/// A containers-transports(5) transport. The name is the key under `transports` in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `docker` (registries).
    Docker,
    /// `atomic` (OpenShift registry).
    Atomic,
    /// `docker-daemon`.
    DockerDaemon,
    /// `oci` (OCI layout directory).
    Oci,
    /// `oci-archive`.
    OciArchive,
    /// `dir`.
    Dir,
    /// `sif`.
    Sif,
    /// `docker-archive` (only the `""` scope).
    DockerArchive,
    /// `tarball` (only the `""` scope).
    Tarball,
    /// `containers-storage`.
    ContainersStorage,
    /// Any other name (no scope validation, as containers/image for unregistered transports).
    Other(String),
}

impl Transport {
    /// The transport for a policy key / image-name prefix.
    pub fn from_name(name: &str) -> Transport {
        match name {
            "docker" => Transport::Docker,
            "atomic" => Transport::Atomic,
            "docker-daemon" => Transport::DockerDaemon,
            "oci" => Transport::Oci,
            "oci-archive" => Transport::OciArchive,
            "dir" => Transport::Dir,
            "sif" => Transport::Sif,
            "docker-archive" => Transport::DockerArchive,
            "tarball" => Transport::Tarball,
            "containers-storage" => Transport::ContainersStorage,
            other => Transport::Other(other.to_string()),
        }
    }

    /// The transport's name.
    pub fn name(&self) -> &str {
        match self {
            Transport::Docker => "docker",
            Transport::Atomic => "atomic",
            Transport::DockerDaemon => "docker-daemon",
            Transport::Oci => "oci",
            Transport::OciArchive => "oci-archive",
            Transport::Dir => "dir",
            Transport::Sif => "sif",
            Transport::DockerArchive => "docker-archive",
            Transport::Tarball => "tarball",
            Transport::ContainersStorage => "containers-storage",
            Transport::Other(n) => n,
        }
    }

    /// `ValidatePolicyConfigurationScope` for a non-empty scope. A policy whose scope fails this
    /// is rejected (containers/image reports it as `Unknown key %q`).
    pub fn validate_scope(&self, scope: &str) -> Result<(), String> {
        match self {
            // docker: any string is accepted (typos silently never match).
            Transport::Docker | Transport::Other(_) => Ok(()),
            Transport::Atomic => {
                // ^[^/]*(/[^:/]*(/[^:/]*(:[^:/]*)?)?)?$
                let mut parts = scope.split('/');
                let _host = parts.next();
                let rest: Vec<&str> = parts.collect();
                let ok = match rest.as_slice() {
                    [] => true,
                    [ns] => !ns.contains(':'),
                    [ns, stream] => !ns.contains(':') && stream.matches(':').count() <= 1,
                    _ => false,
                };
                if ok {
                    Ok(())
                } else {
                    Err(format!("Invalid scope name {scope}"))
                }
            }
            Transport::DockerDaemon => {
                if parse_digest(scope).is_ok() {
                    Err(format!(
                        "docker-daemon: can not use algo:digest value {scope} as a namespace"
                    ))
                } else {
                    Ok(())
                }
            }
            Transport::Dir | Transport::Sif | Transport::Oci | Transport::OciArchive => {
                if !scope.starts_with('/') {
                    return Err(format!("Invalid scope {scope}: Must be an absolute path"));
                }
                if scope == "/" {
                    return Err(r#"Invalid scope "/": Use the generic default scope """#.into());
                }
                let cleaned = clean_path(scope);
                if cleaned != scope {
                    return Err(format!(
                        "Invalid scope {scope}: Uses non-canonical format, perhaps try {cleaned}"
                    ));
                }
                Ok(())
            }
            Transport::DockerArchive | Transport::Tarball => Err(format!(
                r#"{}: does not support any scopes except the default "" one"#,
                self.name()
            )),
            Transport::ContainersStorage => {
                // "[driver@graphroot]…" or "[graphroot]…"; the image part is not checked here.
                let Some(rest) = scope.strip_prefix('[') else {
                    return Err("invalid reference".into());
                };
                let Some((store, _)) = rest.split_once(']') else {
                    return Err("invalid reference".into());
                };
                let root = match store.split_once('@') {
                    Some((driver, root)) if !driver.is_empty() && !root.is_empty() => root,
                    None if !store.is_empty() => store,
                    _ => return Err("invalid reference".into()),
                };
                if root.starts_with('/') {
                    Ok(())
                } else {
                    Err("path is not absolute".into())
                }
            }
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Go's `filepath.Clean` for absolute Unix paths.
fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The image being evaluated, as far as scope lookup and identity matching need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageName {
    /// A registry image (`docker`, `atomic`, `docker-daemon` by name): a normalised docker
    /// reference with a tag or a digest (not both).
    Docker(DockerReference),
    /// A path-based image (`oci`, `oci-archive`, `dir`, `sif`): the **resolved** absolute path
    /// (no symlinks, as `explicitfilepath.ResolvePathToFullyExplicit`; the shell resolves it).
    /// Such images have no docker identity: only `exactReference`/`exactRepository` can match.
    Path(String),
    /// Anything else: the shell supplies what containers/image's `ImageReference` would.
    Custom {
        /// `PolicyConfigurationIdentity()`.
        identity: String,
        /// `PolicyConfigurationNamespaces()`, most specific first.
        namespaces: Vec<String>,
        /// `DockerReference()`, if the image has one.
        docker_reference: Option<DockerReference>,
        /// `transports.ImageName()`, for messages.
        display: String,
    },
}

impl ImageName {
    /// A `docker://` style reference (without the prefix): parsed with `ParseNormalizedNamed`,
    /// `:latest` added when neither tag nor digest is present; both at once are refused as the
    /// docker transport does.
    pub fn docker(reference: &str) -> Result<ImageName, String> {
        let r = DockerReference::parse_normalized(reference)?.tag_name_only();
        if r.tag().is_some() && r.digest().is_some() {
            return Err(
                "Docker references with both a tag and digest are currently not supported".into(),
            );
        }
        Ok(ImageName::Docker(r))
    }

    /// The docker reference of the image, if it has one (`DockerReference()`).
    pub fn docker_reference(&self) -> Option<&DockerReference> {
        match self {
            ImageName::Docker(r) => Some(r),
            ImageName::Path(_) => None,
            ImageName::Custom {
                docker_reference, ..
            } => docker_reference.as_ref(),
        }
    }

    /// `transports.ImageName(ref)`: e.g. `docker://busybox:latest`, `oci:/srv/layout`.
    pub fn display_name(&self, transport: &Transport) -> String {
        match self {
            ImageName::Docker(r) => match transport {
                Transport::Docker => format!("docker://{}", r.familiar_string()),
                Transport::DockerDaemon => format!("docker-daemon:{}", r.familiar_string()),
                t => format!("{}:{}", t.name(), r),
            },
            ImageName::Path(p) => format!("{}:{p}", transport.name()),
            ImageName::Custom { display, .. } => display.clone(),
        }
    }

    /// `PolicyConfigurationIdentity()` for this transport.
    pub fn policy_identity(&self) -> String {
        match self {
            ImageName::Docker(r) => {
                let mut s = r.name();
                if let Some(t) = r.tag() {
                    s.push(':');
                    s.push_str(t);
                } else if let Some(d) = r.digest() {
                    s.push('@');
                    s.push_str(d);
                }
                s
            }
            ImageName::Path(p) => p.clone(),
            ImageName::Custom { identity, .. } => identity.clone(),
        }
    }

    /// `PolicyConfigurationNamespaces()` for this transport, most specific first.
    pub fn policy_namespaces(&self, transport: &Transport) -> Vec<String> {
        match self {
            ImageName::Docker(r) => docker_reference_namespaces(r),
            ImageName::Path(p) => match transport {
                // oci / oci-archive list the directory itself first, then its parents.
                Transport::Oci | Transport::OciArchive => {
                    let mut out = Vec::new();
                    let mut path = p.as_str();
                    while let Some(i) = path.rfind('/') {
                        if path == "/" {
                            break;
                        }
                        out.push(path.to_string());
                        path = &path[..i];
                    }
                    out
                }
                // dir / sif (and others): the parents only, never "/".
                _ => {
                    let mut out = Vec::new();
                    let mut path = p.as_str();
                    while let Some(i) = path.rfind('/') {
                        if i == 0 {
                            break;
                        }
                        path = &path[..i];
                        out.push(path.to_string());
                    }
                    out
                }
            },
            ImageName::Custom { namespaces, .. } => namespaces.clone(),
        }
    }
}

/// `DockerReferenceNamespaces`: repository, parent namespaces down to `host[:port]`, then
/// `*.` wildcards of the host without port, most specific first.
fn docker_reference_namespaces(r: &DockerReference) -> Vec<String> {
    let mut out = Vec::new();
    let mut name = r.name();
    loop {
        out.push(name.clone());
        match name.rfind('/') {
            Some(i) => name.truncate(i),
            None => break,
        }
    }
    if let Some(i) = name.find(':') {
        name.truncate(i);
    }
    while let Some(i) = name.find('.') {
        name = name[i + 1..].to_string();
        out.push(format!("*.{name}"));
    }
    out
}

/// Which part of the policy supplied the requirements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ScopeMatch {
    /// `transports[transport][scope]` with a non-empty scope (identity or namespace).
    Scope {
        /// Transport name.
        transport: String,
        /// The matching scope key.
        scope: String,
    },
    /// `transports[transport][""]`.
    TransportDefault {
        /// Transport name.
        transport: String,
    },
    /// The top-level `default`.
    Default,
}

impl fmt::Display for ScopeMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeMatch::Scope { transport, scope } => {
                write!(f, "transports.{transport}[{scope:?}]")
            }
            ScopeMatch::TransportDefault { transport } => {
                write!(f, r#"transports.{transport}[""]"#)
            }
            ScopeMatch::Default => f.write_str("default"),
        }
    }
}

impl Policy {
    /// `requirementsForImageRef`: the most specific scope wins, no merging: the identity, then
    /// each namespace, then the transport's `""`, then `default`.
    pub fn requirements_for(
        &self,
        transport: &Transport,
        image: &ImageName,
    ) -> (&[Requirement], ScopeMatch) {
        if let Some(scopes) = self.transports.get(transport.name()) {
            let identity = image.policy_identity();
            let candidates = std::iter::once(identity).chain(image.policy_namespaces(transport));
            for scope in candidates {
                if scope.is_empty() {
                    continue;
                }
                if let Some(reqs) = scopes.get(&scope) {
                    return (
                        reqs,
                        ScopeMatch::Scope {
                            transport: transport.name().to_string(),
                            scope,
                        },
                    );
                }
            }
            if let Some(reqs) = scopes.get("") {
                return (
                    reqs,
                    ScopeMatch::TransportDefault {
                        transport: transport.name().to_string(),
                    },
                );
            }
        }
        (&self.default, ScopeMatch::Default)
    }
}

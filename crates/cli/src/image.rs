//! Turning an IMAGE argument into where it lives and which digest it names: a registry
//! repository or an OCI layout directory, the store its signatures live in (the image's own
//! repository, or `COSIGN_REPOSITORY`), and tag → digest resolution with cosign's
//! "image tag not found" (exit 11) when it does not exist.

use anyhow::{Context, Result};
use signet_oci::{Digest, Reference};
use signet_registry::{ClientOptions, ImageRef, Keychain, RegistryClient, Repo, Store};

use crate::cli::RegistryArgs;
use crate::exit::ImageNotFound;

/// Process-wide registry access (one HTTP client, one token cache).
pub struct Session {
    client: RegistryClient,
}

impl Session {
    /// A session with the flags' TLS/HTTP choices and credentials from the usual files.
    pub fn new(args: &RegistryArgs) -> Result<Self> {
        let options = ClientOptions {
            allow_http: args.allow_http_registry,
            allow_insecure: args.allow_insecure_registry,
            ..ClientOptions::default()
        };
        let client = RegistryClient::new(options, Keychain::from_env())
            .context("setting up the registry client")?;
        Ok(Session { client })
    }

    /// Opens an IMAGE argument.
    pub fn open(&self, input: &str) -> Result<Target> {
        let image = ImageRef::parse(input)?;
        let (store, sig_store, sig_repo_name) = match &image {
            ImageRef::Registry(r) => {
                let store = Store::Registry {
                    client: self.client.clone(),
                    repo: Repo::from(r),
                };
                let (sig_store, name) = match std::env::var("COSIGN_REPOSITORY") {
                    Ok(v) if !v.is_empty() => {
                        let (registry, name) = Reference::parse_repository(&v)
                            .with_context(|| format!("parsing COSIGN_REPOSITORY={v}"))?;
                        let full = format!("{registry}/{name}");
                        (
                            Store::Registry {
                                client: self.client.clone(),
                                repo: Repo { registry, name },
                            },
                            full,
                        )
                    }
                    _ => (store.clone(), r.repository_name()),
                };
                (store, sig_store, name)
            }
            ImageRef::Layout { path, .. } => {
                let layout = signet_registry::OciLayout::open(path)?;
                let store = Store::Layout(layout);
                (store.clone(), store, format!("oci:{}", path.display()))
            }
        };
        Ok(Target {
            input: input.to_string(),
            image,
            store,
            sig_store,
            sig_repo_name,
        })
    }
}

/// An opened IMAGE argument.
pub struct Target {
    /// The argument as given.
    pub input: String,
    /// The parsed reference.
    pub image: ImageRef,
    /// Where the image lives.
    pub store: Store,
    /// Where its signatures live.
    pub sig_store: Store,
    /// Human name of the signature repository.
    pub sig_repo_name: String,
}

/// An image resolved to a digest.
pub struct Resolved {
    /// The manifest digest.
    pub digest: Digest,
    /// Its media type, when it was looked up.
    pub media_type: Option<String>,
}

impl Target {
    /// Whether the argument named a tag rather than a digest.
    pub fn is_tag(&self) -> bool {
        match &self.image {
            ImageRef::Registry(r) => r.digest().is_none(),
            ImageRef::Layout { digest, .. } => digest.is_none(),
        }
    }

    /// The tag or digest to look up.
    fn identifier(&self) -> String {
        match &self.image {
            ImageRef::Registry(r) => r.identifier(),
            ImageRef::Layout { digest, tag, .. } => match (digest, tag) {
                (Some(d), _) => d.to_string(),
                (None, Some(t)) => t.clone(),
                (None, None) => String::new(),
            },
        }
    }

    /// ggcr's `Name()` of the reference, for messages (`Verification for …`).
    pub fn display_name(&self) -> String {
        match &self.image {
            ImageRef::Registry(r) => r.to_string(),
            ImageRef::Layout { .. } => self.input.clone(),
        }
    }

    /// What goes into `critical.identity.docker-reference`: the repository for registry
    /// images (as cosign writes it), the layout path for layouts.
    pub fn docker_reference(&self) -> String {
        match &self.image {
            ImageRef::Registry(r) => r.repository_name(),
            ImageRef::Layout { path, .. } => path.display().to_string(),
        }
    }

    /// Resolves the argument to a digest. A digest reference needs no request unless
    /// `need_media_type`; a tag costs one HEAD.
    pub async fn resolve(&self, need_media_type: bool) -> Result<Resolved> {
        if let ImageRef::Registry(r) = &self.image
            && let Some(d) = r.digest()
            && !need_media_type
        {
            return Ok(Resolved {
                digest: d.clone(),
                media_type: None,
            });
        }
        let id = self.identifier();
        let head = self
            .store
            .head_manifest(&id)
            .await
            .with_context(|| format!("resolving {}", self.input))?
            .ok_or_else(|| ImageNotFound(self.input.clone()))?;
        Ok(Resolved {
            digest: head.digest,
            media_type: Some(head.media_type),
        })
    }
}

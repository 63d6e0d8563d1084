//! Trust policy selection for an artifact: the policy whose `registryScopes` contains the
//! artifact's repository exactly, else the global (`"*"`) policy, else an error.
//!
//! The repository is taken as given (`registry/namespace/repo`, no tag or digest): like
//! notation, no normalisation or reference expansion is done (`docker.io/library/x`, never `x`).

use crate::document::{
    RegistryScopes, TrustPolicy, TrustPolicyDocument, is_fully_qualified_repository,
};
use crate::error::Error;

impl TrustPolicyDocument {
    /// The policy that applies to artifacts of `repository`.
    pub fn select(&self, repository: &str) -> Result<&TrustPolicy, Error> {
        if !is_fully_qualified_repository(repository) {
            return Err(Error::InvalidRepository {
                repository: repository.to_owned(),
            });
        }
        let exact = self.policies().iter().find(|p| match p.registry_scopes() {
            RegistryScopes::Repositories(scopes) => scopes.iter().any(|s| s == repository),
            RegistryScopes::Global => false,
        });
        exact
            .or_else(|| self.global_policy())
            .ok_or_else(|| Error::NoApplicablePolicy {
                repository: repository.to_owned(),
            })
    }
}

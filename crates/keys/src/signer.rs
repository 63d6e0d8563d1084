//! [`BackendSigner`]: a stored key behind the [`signet_crypto::Signer`] seam, so the signing
//! code that takes file keys today signs with a backend key unchanged.

use signet_crypto::{PublicKey, SignatureAlgorithm, Signer};

use crate::{Error, KeyBackend, KeyId};

/// One key of a backend, usable wherever a [`Signer`] is expected.
pub struct BackendSigner<B> {
    backend: B,
    id: KeyId,
    public: PublicKey,
}

impl<B: KeyBackend> BackendSigner<B> {
    /// Binds key `id` of `backend` (reads its public key once).
    pub fn new(backend: B, id: KeyId) -> Result<Self, Error> {
        let public = backend.public_key(&id)?;
        Ok(BackendSigner {
            backend,
            id,
            public,
        })
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }
}

impl<B: KeyBackend> Signer for BackendSigner<B> {
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.public.key_type().default_algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signet_crypto::Error> {
        self.backend
            .sign(&self.id, message)
            .map_err(|_| signet_crypto::Error::SigningFailed {
                algorithm: self.algorithm(),
            })
    }
}

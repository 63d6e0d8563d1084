//! Client registrations (`/registrations/clients`): the body of a registration, whose
//! encryption public key (PEM, checked here) is what the service encrypts the product's
//! secrets to, and the one-line summary of a decision on one.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// What `clients register` sends.
#[derive(Debug)]
pub struct Registration<'a> {
    /// The client's name.
    pub name: &'a str,
    /// Its description.
    pub description: &'a str,
    /// The product (id) whose secrets it receives.
    pub product: &'a str,
    /// The client type, e.g. ProductionPC.
    pub client_type: &'a str,
    /// The user the client acts for, if any.
    pub client_user: Option<&'a str>,
}

/// The body of `POST /registrations/clients`: `public_key_pem` (the text of `key_path`) must
/// be a PEM public key, and is sent base64-encoded.
pub fn register_body(r: &Registration<'_>, public_key_pem: &str, key_path: &str) -> Result<Value> {
    if r.name.trim().is_empty() {
        bail!("--name: the client needs a name");
    }
    if public_key_pem.contains("PRIVATE KEY-----") {
        bail!(
            "{key_path} is a private key: give the client's public key (e.g. `openssl pkey -in {key_path} -pubout`), the private key stays with the client"
        );
    }
    signet_crypto::PublicKey::from_pem(public_key_pem)
        .with_context(|| format!("{key_path} is not a PEM public key"))?;
    let mut body = json!({
        "name": r.name,
        "description": r.description,
        "idProduct": r.product,
        "clientType": r.client_type,
        "encryptionPublicKey": signet_sigstore::gobase64::encode(public_key_pem.as_bytes()),
    });
    if let Some(user) = r.client_user.filter(|u| !u.trim().is_empty()) {
        body["clientUser"] = Value::from(user);
    }
    Ok(body)
}

/// The ids of the clients a decision retired (`retiredClients`: ids, or clients with an id).
pub fn retired(answer: &Value) -> Vec<String> {
    answer
        .get("retiredClients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| match c {
            Value::String(s) => Some(s.clone()),
            other => other.get("id").and_then(Value::as_str).map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(user: Option<&'static str>) -> Registration<'static> {
        Registration {
            name: "line-3",
            description: "",
            product: "p1",
            client_type: "ProductionPC",
            client_user: user,
        }
    }

    #[test]
    fn register_bodies() {
        let key = signet_crypto::PrivateKey::generate(signet_crypto::KeyType::P256).unwrap();
        let pem = key.public_key().to_pem();
        let b = register_body(&reg(Some("u1")), &pem, "client.pub").unwrap();
        assert_eq!(
            b,
            json!({"name": "line-3", "description": "", "idProduct": "p1",
                "clientType": "ProductionPC", "clientUser": "u1",
                "encryptionPublicKey": signet_sigstore::gobase64::encode(pem.as_bytes())})
        );
        let b = register_body(&reg(None), &pem, "client.pub").unwrap();
        assert!(b.get("clientUser").is_none());
        let e = register_body(&reg(None), "junk", "client.pub").unwrap_err();
        assert!(
            e.to_string().contains("client.pub is not a PEM public key"),
            "{e}"
        );
        let private = "-----BEGIN PRIVATE KEY-----\nMC4=\n-----END PRIVATE KEY-----\n";
        let e = register_body(&reg(None), private, "client.private").unwrap_err();
        assert!(e.to_string().contains("is a private key"), "{e}");
        let mut r = reg(None);
        r.name = " ";
        assert!(register_body(&r, &pem, "client.pub").is_err());
    }

    #[test]
    fn retired_clients() {
        let a = json!({"retiredClients": ["c1", {"id": "c2", "name": "x"}, 3]});
        assert_eq!(retired(&a), ["c1", "c2"]);
        assert!(retired(&json!({})).is_empty());
    }
}

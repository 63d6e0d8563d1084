//! Client registrations (`/registrations/clients`): a CI machine's encryption key, bound to
//! a user and a product, through which the service hands out the product's secrets.
//!
//! Rules, as the hosted service has them:
//! - members of any `allowedGroups` of the product register; `clientUser` defaults to the
//!   registrant and must be the registrant (a client is always bound to who uses it);
//! - members of any `approvalGroups` of the product decide, never the registrant or the
//!   client's user; a decision on a client that is no longer pending changes nothing and
//!   says so (`applied: false`);
//! - approving retires every earlier Ready client of the same user, product and type (state
//!   256, NotActive);
//! - a client is revoked (NotActive) by its user, an approver, or the service's admins.
//!
//! Only `ProductionPC` clients are offered: the other hosted types (certificate issuance,
//! wrapped keys) have no counterpart in signet yet and are refused by name.

use serde::{Deserialize, Serialize};

use crate::product::Product;
use crate::request::{Actor, DecisionKind as Decision};
use crate::{Error, Result, State, Timestamp};

/// The state value of a retired or revoked client (the hosted service's `NotActive`).
pub const NOT_ACTIVE: u32 = 256;

/// The only client type signet offers.
pub const PRODUCTION_PC: &str = "ProductionPC";

/// The client types of the hosted service that signet does not offer.
const OTHER_TYPES: [&str; 10] = [
    "SecurityEngineer",
    "CBTester",
    "IssueDeviceCertificateCA",
    "IssueDeviceCertificate",
    "ESTIssueDeviceCertificateCA",
    "ESTIssueDeviceCertificate",
    "IssueCertificateCA",
    "IssueCertificate",
    "ESTIssueCertificateCA",
    "ESTIssueCertificate",
];

/// `POST /registrations/clients`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The product (id or name).
    pub id_product: String,
    /// `ProductionPC` (the default).
    #[serde(default)]
    pub client_type: Option<String>,
    /// The client's user; defaults to the registrant and must be the registrant.
    #[serde(default)]
    pub client_user: Option<String>,
    /// Base64 of the PEM public key (line breaks in the base64 are tolerated).
    pub encryption_public_key: String,
}

impl Registration {
    /// Parses the JSON body strictly (unknown fields are named).
    pub fn parse(body: &[u8]) -> Result<Registration> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let message = e.inner().to_string();
            if path == "." {
                Error::MalformedJson {
                    what: "client registration",
                    message,
                }
            } else {
                Error::InvalidProduct { path, message }
            }
        })
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The product's id.
    pub id_product: String,
    /// The client type.
    pub client_type: String,
    /// The user the client belongs to.
    pub client_user: String,
    /// Base64 of the PEM public key.
    pub encryption_public_key: String,
    /// The key's type (`RSA2048`, `ECDSAP256`, …), as the service read it.
    pub key_type: String,
    /// 2 pending, 16 Ready, 32 Rejected, 256 NotActive.
    pub state: u32,
    /// Who registered it.
    pub registered_by: String,
    /// When (Unix seconds).
    pub created_at: Timestamp,
    /// Last change (Unix seconds).
    pub updated_at: Timestamp,
    /// Who approved, rejected or revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The approver's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The client whose approval retired this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_by: Option<String>,
}

fn allowed_groups(product: &Product) -> impl Iterator<Item = &String> {
    product
        .product_operations
        .iter()
        .flat_map(|op| op.approval_rule.allowed_groups.iter())
}

fn approval_groups(product: &Product) -> impl Iterator<Item = &String> {
    product
        .product_operations
        .iter()
        .flat_map(|op| op.approval_rule.approval_groups.iter())
}

/// Whether `actor` may decide clients of `product` (a member of any approvalGroups).
pub fn is_approver(actor: &Actor, product: &Product) -> bool {
    approval_groups(product).any(|g| actor.groups.contains(g))
}

/// Whether `actor` may register clients for `product` (a member of any allowedGroups);
/// checked before anything about the registration is looked at.
pub fn may_register(actor: &Actor, product: &Product) -> Result<()> {
    if allowed_groups(product).any(|g| actor.groups.contains(g)) {
        return Ok(());
    }
    Err(Error::NotAllowed {
        user: actor.user.clone(),
        operation: format!("client registration for product {:?}", product.name),
    })
}

/// Registers a client; `key_type` is what the shell read from the public key.
pub fn register(
    id: &str,
    registration: Registration,
    key_type: &str,
    actor: &Actor,
    product: &Product,
    now: Timestamp,
) -> Result<Client> {
    may_register(actor, product)?;
    let field = |path: &str, message: String| Error::InvalidProduct {
        path: path.to_owned(),
        message,
    };
    if registration.name.trim().is_empty() {
        return Err(field("name", "must not be empty".to_owned()));
    }
    let client_type = registration
        .client_type
        .unwrap_or_else(|| PRODUCTION_PC.to_owned());
    if client_type != PRODUCTION_PC {
        let message = if OTHER_TYPES.contains(&client_type.as_str()) {
            format!("{client_type} clients are not offered by this service; use ProductionPC")
        } else {
            format!("unknown client type {client_type:?}; use ProductionPC")
        };
        return Err(field("clientType", message));
    }
    let client_user = registration
        .client_user
        .unwrap_or_else(|| actor.user.clone());
    if client_user != actor.user {
        return Err(field(
            "clientUser",
            format!(
                "must be the registering user ({}), not {client_user:?}",
                actor.user
            ),
        ));
    }
    Ok(Client {
        id: id.to_owned(),
        name: registration.name,
        description: registration.description,
        id_product: product.id.clone().unwrap_or_default(),
        client_type,
        client_user,
        encryption_public_key: registration.encryption_public_key,
        key_type: key_type.to_owned(),
        state: State::ApprovalRequired.value(),
        registered_by: actor.user.clone(),
        created_at: now,
        updated_at: now,
        decided_by: None,
        reason: None,
        retired_by: None,
    })
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// The client was pending and now is Ready or Rejected.
    Applied(Box<Client>),
    /// The client was not pending: nothing changed.
    NotApplied,
}

/// Approves or rejects a pending client.
pub fn decide(
    client: &Client,
    actor: &Actor,
    product: &Product,
    decision: Decision,
    reason: &str,
    now: Timestamp,
) -> Result<Decided> {
    if !is_approver(actor, product) {
        return Err(Error::NotAnApprover {
            user: actor.user.clone(),
            operation: format!("clients of product {:?}", product.name),
        });
    }
    if client.state != State::ApprovalRequired.value() {
        return Ok(Decided::NotApplied);
    }
    if actor.user == client.registered_by || actor.user == client.client_user {
        return Err(Error::SelfApproval {
            user: actor.user.clone(),
            subject: format!("client {}", client.id),
        });
    }
    let state = match decision {
        Decision::Approve => State::Ready,
        Decision::Reject => {
            if reason.trim().is_empty() {
                return Err(Error::ReasonRequired {
                    subject: format!("client {}", client.id),
                });
            }
            State::Rejected
        }
    };
    let mut decided = client.clone();
    decided.state = state.value();
    decided.decided_by = Some(actor.user.clone());
    decided.reason = (!reason.is_empty()).then(|| reason.to_owned());
    decided.updated_at = now;
    Ok(Decided::Applied(Box::new(decided)))
}

/// Whether approving `approved` retires `other` (same user, product and type, Ready).
pub fn retires(approved: &Client, other: &Client) -> bool {
    other.id != approved.id
        && other.state == State::Ready.value()
        && other.client_user == approved.client_user
        && other.id_product == approved.id_product
        && other.client_type == approved.client_type
}

/// `other` retired by the approval of `by`.
pub fn retire(other: &Client, by: &str, now: Timestamp) -> Client {
    let mut retired = other.clone();
    retired.state = NOT_ACTIVE;
    retired.retired_by = Some(by.to_owned());
    retired.updated_at = now;
    retired
}

/// Revokes a client (its user, an approver of the product, or an admin — `is_admin`).
pub fn revoke(
    client: &Client,
    actor: &Actor,
    product: &Product,
    is_admin: bool,
    now: Timestamp,
) -> Result<Client> {
    if !(is_admin || actor.user == client.client_user || is_approver(actor, product)) {
        return Err(Error::NotAnApprover {
            user: actor.user.clone(),
            operation: format!("clients of product {:?}", product.name),
        });
    }
    let mut revoked = client.clone();
    revoked.state = NOT_ACTIVE;
    revoked.decided_by = Some(actor.user.clone());
    revoked.updated_at = now;
    Ok(revoked)
}

/// Whether `client` entitles `actor` to the secrets of product `product_id`.
pub fn entitles(client: &Client, actor: &Actor, product_id: &str) -> bool {
    client.state == State::Ready.value()
        && client.client_user == actor.user
        && client.id_product == product_id
        && client.client_type == PRODUCTION_PC
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product() -> Product {
        let json = r#"{"id":"p1","name":"app","description":"d","caInfo":[],"rndKeys":[],
          "productOperations":[{"name":"op","description":"d","operationType":"DigestSigning",
          "token":{"name":"t","description":"d","keyType":"ECDSAP256"},
          "approvalRule":{"name":"r","description":"d","allowedGroups":["writers"],
          "approvalGroups":["approvers"],"blanketGroups":[]}}]}"#;
        Product::parse(json.as_bytes()).unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::from_unix_seconds(1_800_000_000)
    }

    fn reg(body: &str) -> Registration {
        Registration::parse(body.as_bytes()).unwrap()
    }

    const BODY: &str = r#"{"name":"ci","idProduct":"p1","encryptionPublicKey":"LS0t"}"#;

    #[test]
    fn register_defaults_to_the_registrant_and_production_pc() {
        let alice = Actor::new("alice", ["writers"]);
        let c = register("c1", reg(BODY), "RSA2048", &alice, &product(), now()).unwrap();
        assert_eq!(c.client_user, "alice");
        assert_eq!(c.client_type, PRODUCTION_PC);
        assert_eq!(c.state, 2);
    }

    #[test]
    fn only_allowed_groups_register_and_only_for_themselves() {
        let bob = Actor::new("bob", ["approvers"]);
        assert!(matches!(
            register("c1", reg(BODY), "RSA2048", &bob, &product(), now()),
            Err(Error::NotAllowed { .. })
        ));
        let alice = Actor::new("alice", ["writers"]);
        let other =
            r#"{"name":"ci","idProduct":"p1","clientUser":"bob","encryptionPublicKey":"x"}"#;
        let err = register("c1", reg(other), "RSA2048", &alice, &product(), now()).unwrap_err();
        assert!(err.to_string().starts_with("clientUser: "), "{err}");
        let typed = r#"{"name":"ci","idProduct":"p1","clientType":"SecurityEngineer","encryptionPublicKey":"x"}"#;
        let err = register("c1", reg(typed), "RSA2048", &alice, &product(), now()).unwrap_err();
        assert!(err.to_string().contains("not offered"), "{err}");
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = Registration::parse(
            br#"{"name":"ci","idProduct":"p","encryptionPublicKey":"x","bogus":1}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn decisions_need_an_approver_who_is_not_the_user() {
        let alice = Actor::new("alice", ["writers", "approvers"]);
        let c = register("c1", reg(BODY), "RSA2048", &alice, &product(), now()).unwrap();
        assert!(matches!(
            decide(&c, &alice, &product(), Decision::Approve, "", now()),
            Err(Error::SelfApproval { .. })
        ));
        let carol = Actor::new("carol", ["writers"]);
        assert!(matches!(
            decide(&c, &carol, &product(), Decision::Approve, "", now()),
            Err(Error::NotAnApprover { .. })
        ));
        let bob = Actor::new("bob", ["approvers"]);
        assert!(matches!(
            decide(&c, &bob, &product(), Decision::Reject, " ", now()),
            Err(Error::ReasonRequired { .. })
        ));
        let Decided::Applied(ready) =
            decide(&c, &bob, &product(), Decision::Approve, "", now()).unwrap()
        else {
            panic!("not applied")
        };
        assert_eq!(ready.state, 16);
        assert!(entitles(&ready, &alice, "p1"));
        assert!(!entitles(&ready, &bob, "p1"));
        assert!(!entitles(&ready, &alice, "p2"));
        assert_eq!(
            decide(&ready, &bob, &product(), Decision::Reject, "late", now()).unwrap(),
            Decided::NotApplied
        );
    }

    #[test]
    fn approval_retires_the_same_users_earlier_client() {
        let alice = Actor::new("alice", ["writers"]);
        let bob = Actor::new("bob", ["approvers"]);
        let mut old = register("c1", reg(BODY), "RSA2048", &alice, &product(), now()).unwrap();
        old.state = 16;
        let mut new = register("c2", reg(BODY), "ECDSAP256", &alice, &product(), now()).unwrap();
        new.state = 16;
        assert!(retires(&new, &old));
        assert!(!retires(&new, &new));
        let mut other_user = old.clone();
        other_user.client_user = "dave".into();
        assert!(!retires(&new, &other_user));
        let retired = retire(&old, "c2", now());
        assert_eq!(retired.state, NOT_ACTIVE);
        assert!(!entitles(&retired, &alice, "p1"));
        let carol = Actor::new("carol", ["writers"]);
        assert!(revoke(&new, &carol, &product(), false, now()).is_err());
        assert_eq!(
            revoke(&new, &alice, &product(), false, now())
                .unwrap()
                .state,
            NOT_ACTIVE
        );
        assert_eq!(
            revoke(&new, &bob, &product(), false, now()).unwrap().state,
            NOT_ACTIVE
        );
    }
}

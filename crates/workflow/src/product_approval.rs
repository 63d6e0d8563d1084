//! Approval of products and product changes.
//!
//! A new product, and any change to a product's operations (including their approval
//! rules), type, certificates or keys, waits in ApprovalRequired for one member of the
//! organisation's `productApprovalGroups` (`caApprovalGroups` for CA products). Whoever
//! submitted it never approves it. Changes to the name, description or `enabled` flag apply
//! at once. Approval gives the product state Ready; rejection (with a reason) leaves the
//! current product as it was.

use serde::{Deserialize, Serialize};

use crate::product::{Product, ProductType};
use crate::request::{Action, Actor, DecisionKind, RecordedDecision};
use crate::{Error, Result, State, Timestamp};

/// The organisation's product groups (the service's system configuration `Groups`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgGroups {
    /// May submit products and changes.
    pub product_writer_groups: Vec<String>,
    /// May approve RnD and Production products.
    pub product_approval_groups: Vec<String>,
    /// May approve CA products.
    pub ca_approval_groups: Vec<String>,
}

/// What kind of change a product change request makes (the service's ChangeType names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ChangeType {
    /// A new product.
    NewProduct,
    /// An operation was added.
    AddOperation,
    /// An operation (or its approval rule) was changed or removed.
    ModifyOperation,
    /// Type, certificates or keys changed.
    ModifyProductMetaData,
}

/// A product or product change waiting for (or past) approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductRequest {
    /// Id.
    pub id: String,
    /// What changes.
    pub changes: Vec<ChangeType>,
    /// The product as it will be once approved.
    pub product: Product,
    /// Who submitted it.
    pub requested_by: String,
    /// When.
    pub created_at: Timestamp,
    /// ApprovalRequired, Ready (approved) or Rejected.
    pub state: State,
    /// The decision, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<RecordedDecision>,
}

impl ProductRequest {
    /// The approved product (state Ready), once approved.
    pub fn approved_product(&self) -> Option<&Product> {
        (self.state == State::Ready).then_some(&self.product)
    }
}

/// The outcome of submitting a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Only the name, description or `enabled` changed: the new product applies now.
    Applied(Product),
    /// The change waits for approval.
    PendingApproval(ProductRequest),
}

fn check_writer(actor: &Actor, org: &OrgGroups) -> Result<()> {
    if !actor.in_any(&org.product_writer_groups) {
        return Err(Error::NotAProductWriter {
            user: actor.user.clone(),
        });
    }
    Ok(())
}

/// Submits a new product (validated) for approval.
pub fn submit_product(
    id: &str,
    mut product: Product,
    actor: &Actor,
    org: &OrgGroups,
    now: Timestamp,
) -> Result<ProductRequest> {
    check_writer(actor, org)?;
    product.validate()?;
    product.state = Some(State::ApprovalRequired);
    Ok(ProductRequest {
        id: id.to_owned(),
        changes: vec![ChangeType::NewProduct],
        product,
        requested_by: actor.user.clone(),
        created_at: now,
        state: State::ApprovalRequired,
        decision: None,
    })
}

/// What differs between two versions of a product, as change types (empty: only name,
/// description or `enabled`, or nothing).
pub fn classify_change(current: &Product, proposed: &Product) -> Vec<ChangeType> {
    let mut changes = Vec::new();
    let added = proposed
        .product_operations
        .iter()
        .any(|p| !current.product_operations.iter().any(|c| c.name == p.name));
    let modified = current.product_operations.iter().any(|c| {
        proposed
            .product_operations
            .iter()
            .find(|p| p.name == c.name)
            .is_none_or(|p| p != c)
    });
    if added {
        changes.push(ChangeType::AddOperation);
    }
    if modified {
        changes.push(ChangeType::ModifyOperation);
    }
    if current.product_type != proposed.product_type
        || current.ca_info != proposed.ca_info
        || current.rnd_keys != proposed.rnd_keys
        || current.product_config_items != proposed.product_config_items
    {
        changes.push(ChangeType::ModifyProductMetaData);
    }
    changes
}

/// Submits a change to `current`. Changes to operations, approval rules, type, certificates
/// or keys wait for approval; the rest apply at once.
pub fn submit_change(
    id: &str,
    current: &Product,
    mut proposed: Product,
    actor: &Actor,
    org: &OrgGroups,
    now: Timestamp,
) -> Result<ChangeOutcome> {
    check_writer(actor, org)?;
    proposed.validate()?;
    // Server-side fields stay as they are.
    proposed.id.clone_from(&current.id);
    proposed.state = current.state;
    if &proposed == current {
        return Err(Error::NoChange {
            product: current.name.clone(),
        });
    }
    let changes = classify_change(current, &proposed);
    if changes.is_empty() {
        return Ok(ChangeOutcome::Applied(proposed));
    }
    Ok(ChangeOutcome::PendingApproval(ProductRequest {
        id: id.to_owned(),
        changes,
        product: proposed,
        requested_by: actor.user.clone(),
        created_at: now,
        state: State::ApprovalRequired,
        decision: None,
    }))
}

/// Decides a product request: one member of the approving group (not the submitter)
/// approves (→ Ready, the product gets state Ready) or rejects with a reason (→ Rejected).
pub fn decide_product(
    request: &ProductRequest,
    actor: &Actor,
    org: &OrgGroups,
    decision: DecisionKind,
    reason: &str,
    now: Timestamp,
) -> Result<ProductRequest> {
    let subject = format!("product request {}", request.id);
    if request.state != State::ApprovalRequired {
        return Err(Error::InvalidTransition {
            subject,
            action: match decision {
                DecisionKind::Approve => Action::Approve,
                DecisionKind::Reject => Action::Reject,
            },
            state: request.state,
        });
    }
    let product_type = request
        .product
        .product_type
        .unwrap_or(ProductType::Production);
    let (groups, field) = if product_type == ProductType::Ca {
        (&org.ca_approval_groups, "caApprovalGroups")
    } else {
        (&org.product_approval_groups, "productApprovalGroups")
    };
    if !actor.in_any(groups) {
        return Err(Error::NotAProductApprover {
            user: actor.user.clone(),
            product_type,
            groups: field,
        });
    }
    if actor.user == request.requested_by {
        return Err(Error::SelfApproval {
            user: actor.user.clone(),
            subject,
        });
    }
    if decision == DecisionKind::Reject && reason.trim().is_empty() {
        return Err(Error::ReasonRequired { subject });
    }
    let mut next = request.clone();
    next.decision = Some(RecordedDecision {
        approver: actor.user.clone(),
        decision,
        reason: reason.to_owned(),
        at: now,
    });
    match decision {
        DecisionKind::Approve => {
            next.state = State::Ready;
            next.product.state = Some(State::Ready);
        }
        DecisionKind::Reject => next.state = State::Rejected,
    }
    Ok(next)
}

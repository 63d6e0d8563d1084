//! The values the store keeps and returns: records (workflow values as JSON plus indexed
//! columns), writes, filters, pages and audit reports.

use std::fmt;

use serde_json::Value;
use signet_workflow::{ChainBreak, Timestamp};

/// What a record is; stored as text (`product`, `product_request`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A product configuration (`signet_workflow::product::Product`).
    Product,
    /// A request to create or change a product (`product_approval::ProductRequest`).
    ProductRequest,
    /// A signing request (`request::SigningRequest`).
    SigningRequest,
    /// An operation key.
    OperationKey,
    /// A PKI profile (`signet_pki::profile::CertProfile` in the hosted envelope).
    Profile,
    /// A product's certificate (`caInfo` entry): its key, CSR and chain.
    Certificate,
    /// The organisation's internal CA (root and intermediate).
    OrgCa,
    /// A registered client (`signet_workflow::client::Client`).
    Client,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 8] = [
        Kind::Product,
        Kind::ProductRequest,
        Kind::SigningRequest,
        Kind::OperationKey,
        Kind::Profile,
        Kind::Certificate,
        Kind::OrgCa,
        Kind::Client,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Product => "product",
            Kind::ProductRequest => "product_request",
            Kind::SigningRequest => "signing_request",
            Kind::OperationKey => "operation_key",
            Kind::Profile => "profile",
            Kind::Certificate => "certificate",
            Kind::OrgCa => "org_ca",
            Kind::Client => "client",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(value: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// A human name for messages (`signing request`).
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Product => "product",
            Kind::ProductRequest => "product request",
            Kind::SigningRequest => "signing request",
            Kind::OperationKey => "operation key",
            Kind::Profile => "PKI profile",
            Kind::Certificate => "certificate",
            Kind::OrgCa => "internal CA",
            Kind::Client => "client",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// The database behind a [`crate::Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (one file, WAL).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// One stored workflow value with the columns the service filters on.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// What it is.
    pub kind: Kind,
    /// The organisation (tenant).
    pub org: String,
    /// Unique per (kind, org).
    pub id: String,
    /// 1 after insert; the store bumps it on every update (the value passed in is ignored).
    pub version: i64,
    /// The workflow state value (1, 2, 4, …).
    pub state: u32,
    /// For [`Kind::Product`]: unique per org. Free text for the other kinds.
    pub name: String,
    /// The product the record belongs to.
    pub product_id: Option<String>,
    /// Who created it.
    pub requester: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Unix seconds; see [`crate::Store::expired`].
    pub expires_at: Option<i64>,
    /// Group ids that may read it ([`Filter::readable_by`]).
    pub readers: Vec<String>,
    /// Group ids that may decide it ([`Filter::decidable_by`]).
    pub approvers: Vec<String>,
    /// The workflow value as JSON.
    pub doc: Value,
}

/// An audit event to append to the org's hash chain with a [`crate::Store::write`].
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: String,
    /// What (`request.create`, …).
    pub action: String,
    /// On what.
    pub subject: String,
    /// Anything else.
    pub details: Value,
}

/// One change of a [`crate::Store::write`].
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// A new record ([`crate::Error::Conflict`] if the id, or a product's name, exists).
    Insert(Record),
    /// Replaces a record if it is still at `expected_version` ([`crate::Error::Stale`]
    /// otherwise); its version becomes `expected_version + 1`.
    Update {
        /// The new contents (`created_at` is kept from the stored record).
        record: Record,
        /// The version read before.
        expected_version: i64,
    },
}

/// Conditions for [`crate::Store::list`]; every `Some` must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Exactly this state value.
    pub state: Option<u32>,
    /// Exactly this name.
    pub name: Option<String>,
    /// Exactly this product id.
    pub product_id: Option<String>,
    /// Exactly this requester.
    pub requester: Option<String>,
    /// Only records with a reader group in this list (an empty list matches nothing).
    pub readable_by: Option<Vec<String>>,
    /// Only records with an approver group in this list (an empty list matches nothing).
    pub decidable_by: Option<Vec<String>>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The records, oldest first (created_at, then id).
    pub items: Vec<Record>,
    /// How many records match the filter in all.
    pub total: u64,
}

/// The result of [`crate::Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// The organisation.
    pub org: String,
    /// Entries checked (the head's seq + 1; 0 for an empty chain).
    pub entries: u64,
    /// The stored head hash (the genesis hash for an empty chain).
    pub head: String,
    /// The first problem found, if any.
    pub broken: Option<AuditProblem>,
}

impl AuditReport {
    /// True when the chain verified completely.
    pub fn is_ok(&self) -> bool {
        self.broken.is_none()
    }
}

/// Why an org's audit chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditProblem {
    /// An entry is changed, missing or out of order
    /// (`signet_workflow::audit::verify_chain` semantics).
    #[error("audit chain broken at entry {seq}: {reason}")]
    Broken {
        /// The first bad entry's seq (or where the missing one should be).
        seq: u64,
        /// What is wrong.
        reason: ChainBreak,
    },
    /// Entries at the end of the chain are missing: the stored head names a later entry.
    #[error("audit chain truncated: the head is entry {head_seq} but the last entry is {}", last_seq.map_or_else(|| "none".to_owned(), |s| s.to_string()))]
    Truncated {
        /// The head's seq.
        head_seq: u64,
        /// The last entry found.
        last_seq: Option<u64>,
    },
    /// The last entry's hash is not the stored head hash.
    #[error("audit head mismatch at entry {seq}: the stored head hash differs from the entry's")]
    HeadMismatch {
        /// The head's seq.
        seq: u64,
    },
    /// Entries exist but the head row is missing.
    #[error("audit head missing: {entries} entries but no head")]
    HeadMissing {
        /// Entries found.
        entries: u64,
    },
}

impl AuditProblem {
    /// The problem as a workflow error where it is a chain break.
    pub fn as_chain_error(&self) -> Option<signet_workflow::Error> {
        match self {
            AuditProblem::Broken { seq, reason } => Some(signet_workflow::Error::ChainBroken {
                seq: *seq,
                reason: reason.clone(),
            }),
            _ => None,
        }
    }
}

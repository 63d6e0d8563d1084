//! The product configuration, in the hosted service's JSON (camelCase, as the OCI signing
//! example's product templates).
//!
//! [`Product::parse`] is strict: unknown fields, wrong types and unknown enum values are
//! refused, and every error names the field path (`productOperations[0].token.keyType:
//! unknown key type "EC256"`). After the structure, [`Product::validate`] checks the rules
//! that make a product usable for signing (see its documentation).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::wire::wire_enum;
use crate::{Error, Result, State};

wire_enum! {
    /// `productType`.
    ProductType, "product type", unsupported: [],
    {
        /// Research and development.
        RnD = "RnD",
        /// Production.
        Production = "Production",
        /// A certificate authority product (approved by caApprovalGroups).
        Ca = "CA",
    }
}

wire_enum! {
    /// `operationType`: the kinds of operation signet performs. The hosted service's other
    /// operation types are recognised and refused as unsupported.
    OperationType, "operation type",
    unsupported: [
        "NotifyJenkins", "IssueDeviceCertificate", "SignUBoot", "SignKernel",
        "FirmwareUpdateSigning", "OP-TEESigning", "SWUpdateBuildSigning", "SignWindowsBinary",
        "SignJAVA", "IssueCertificate", "ExportableToken", "SignHAB", "SignHABCSF", "SignHABIMG",
        "SignAHAB", "SignSPSDK", "NXPKeyExchangeSigning", "NXPKeyImport", "NXPKeyImportKEK",
        "EncryptFirmwareUpdateWithPassphrase", "EncryptFirmwareUpdateWithAES",
        "EncryptImageWithAESEscrowCustom", "EncryptImageWithAES", "SignMcuBoot", "EncryptMcuBoot",
        "SignStCubeSBSFU", "RaucBundleSigning", "RaucBundleSigningWithOneTimeKey",
    ],
    {
        /// Sign a digest with the operation's own HSM key (`token`).
        DigestSigning = "DigestSigning",
        /// Sign with the key of a code-signing certificate from `caInfo`.
        DetachedSignature = "DetachedSignature",
        /// Sign an OCI image (same inputs as DigestSigning).
        SignOci = "SignOCI",
    }
}

wire_enum! {
    /// `keyType` of tokens and CAs: the keys signet can generate and sign with.
    KeyType, "key type",
    unsupported: [
        "PASSPHRASE32", "AES128", "AES256", "RSA1024", "ECDSAP224", "MLDSA44", "MLDSA65", "MLDSA87",
    ],
    {
        /// RSA 2048.
        Rsa2048 = "RSA2048",
        /// RSA 3072.
        Rsa3072 = "RSA3072",
        /// RSA 4096.
        Rsa4096 = "RSA4096",
        /// ECDSA P-256.
        EcdsaP256 = "ECDSAP256",
        /// ECDSA P-384.
        EcdsaP384 = "ECDSAP384",
        /// ECDSA P-521.
        EcdsaP521 = "ECDSAP521",
    }
}

wire_enum! {
    /// `caInfo[].certificateType`.
    CertificateType, "certificate type", unsupported: [],
    {
        /// An end-entity (signing) certificate.
        EndEntity = "ENDENTITY",
        /// An intermediate CA.
        SubCa = "SUBCA",
        /// A root CA.
        Root = "ROOT",
    }
}

wire_enum! {
    /// `caInfo[].useCase`.
    UseCase, "use case", unsupported: [],
    {
        /// Device identity CA.
        DeviceCa = "DeviceCA",
        /// HAB CA.
        HabCa = "HABCA",
        /// Windows code signing.
        WinSigning = "WinSigning",
        /// Code signing (OCI DetachedSignature).
        CodeSigning = "CodeSigning",
        /// RAUC code signing.
        RaucCodeSigning = "RaucCodeSigning",
        /// RAUC encryption.
        RaucEncryption = "RaucEncryption",
        /// Generic use 0.
        GenUse0 = "GenUse0",
        /// Generic use 1.
        GenUse1 = "GenUse1",
        /// Generic use 2.
        GenUse2 = "GenUse2",
        /// Generic use 3.
        GenUse3 = "GenUse3",
        /// Generic use 4.
        GenUse4 = "GenUse4",
        /// Generic use 5.
        GenUse5 = "GenUse5",
        /// Generic use 6.
        GenUse6 = "GenUse6",
        /// Generic use 7.
        GenUse7 = "GenUse7",
        /// Generic use 8.
        GenUse8 = "GenUse8",
        /// Generic use 9.
        GenUse9 = "GenUse9",
    }
}

/// The upper bound on `requiredApprovals`.
pub const MAX_REQUIRED_APPROVALS: u32 = 32;

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_required_approvals() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// A product: the bundle of keys, certificates and operations behind one use case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Product {
    /// Server-generated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unique name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Product type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductType>,
    /// Whether the product may be used (absent means enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Certificates and CAs of the product.
    pub ca_info: Vec<CaInfo>,
    /// Software R&D keys (signet generates none: must be empty).
    pub rnd_keys: Vec<SoftwareKey>,
    /// The operations.
    pub product_operations: Vec<ProductOperation>,
    /// Named configuration values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_config_items: Vec<ConfigItem>,
    /// Tracing id assigned by the gateway.
    #[serde(
        rename = "externalRequestID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_request_id: Option<String>,
    /// Lifecycle state (Ready once approved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
}

/// One operation of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductOperation {
    /// Server-generated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name, unique within the product.
    pub name: String,
    /// Description.
    pub description: String,
    /// What the operation does.
    pub operation_type: OperationType,
    /// The HSM key (DigestSigning, SignOCI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
    /// Who may request, approve, and skip approval.
    pub approval_rule: ApprovalRule,
    /// CA use case (certificate operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_use_case: Option<UseCase>,
    /// Certificate profile (certificate operations).
    #[serde(rename = "profileID", default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// signet extension: repository prefixes cosign payloads must name (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_repositories: Option<Vec<String>>,
    /// signet extension: distinct approvers a request needs (default 1).
    #[serde(default = "default_required_approvals", skip_serializing_if = "is_one")]
    pub required_approvals: u32,
}

/// `token`: the operation's HSM key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Token {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Key algorithm and size.
    pub key_type: KeyType,
    /// Whether the key may be exported (signet: never).
    #[serde(default, skip_serializing_if = "is_false")]
    pub extractable: bool,
    /// Base64 CKA_ID of an existing HSM key to use.
    #[serde(
        rename = "keyOverrideID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_override_id: Option<String>,
    /// Base64 DER SPKI (output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// `approvalRule`: group ids for the three roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalRule {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Members may request the operation.
    pub allowed_groups: Vec<String>,
    /// Members may approve or reject requests.
    pub approval_groups: Vec<String>,
    /// Requesters who are also members skip approval. Not an access grant.
    pub blanket_groups: Vec<String>,
}

/// `caInfo[]`: a certificate or CA of the product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaInfo {
    /// Common name (`cn`; the example templates write `CN`, accepted too).
    #[serde(alias = "CN")]
    pub cn: String,
    /// Description.
    pub description: String,
    /// End entity, sub CA or root.
    pub certificate_type: CertificateType,
    /// Key algorithm and size.
    pub key_type: KeyType,
    /// Certificate profile id.
    #[serde(rename = "profileID")]
    pub profile_id: String,
    /// What the certificate is for.
    pub use_case: UseCase,
    /// Issued under an external root (a CSR is produced first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_root: Option<bool>,
    /// Base64 CSR (output, externalRoot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    /// Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_issue_interval: Option<String>,
    /// Go duration string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_expiry: Option<String>,
    /// Overrides the profile's CDPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_distribution_points: Option<Vec<String>>,
    /// Overrides the profile's policy OIDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_identifiers: Option<Vec<String>>,
    /// Nested hierarchy (the service's spelling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leafs: Option<Vec<CaInfo>>,
    /// Issuer id (nil UUID for a root).
    #[serde(
        rename = "issuerCaID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub issuer_ca_id: Option<String>,
    /// Base64 certificate to import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_override_payload: Option<String>,
    /// Base64 CKA_ID of an existing HSM key.
    #[serde(
        rename = "keyOverrideID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_override_id: Option<String>,
    /// Server-generated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Owning product id.
    #[serde(rename = "productID", default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Originating id.
    #[serde(
        rename = "originatingID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub originating_id: Option<String>,
    /// Tracing id.
    #[serde(
        rename = "externalRequestID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_request_id: Option<String>,
    /// Lifecycle state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
}

/// `rndKeys[]`: a software R&D key (parsed for compatibility; signet refuses them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SoftwareKey {
    /// Server-generated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// Key type (the hosted service's full list).
    pub key_type: String,
    /// Usage.
    pub usage: String,
}

/// `productConfigItems[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigItem {
    /// Name.
    pub name: String,
    /// Base64 value.
    pub value: String,
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::InvalidProduct {
        path: path.into(),
        message: message.into(),
    }
}

impl Product {
    /// Parses and validates a product from its JSON.
    pub fn parse(json: &[u8]) -> Result<Product> {
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| Error::MalformedJson {
                what: "product",
                message: e.to_string(),
            })?;
        let product: Product = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." {
                "product".to_owned()
            } else {
                path
            };
            invalid(path, e.into_inner().to_string())
        })?;
        product.validate()?;
        Ok(product)
    }

    /// The canonical JSON of this product.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::MalformedJson {
            what: "product",
            message: e.to_string(),
        })
    }

    /// Checks the rules beyond the structure:
    ///
    /// - `name` is not blank; operation names are not blank and unique;
    /// - `rndKeys` is empty (signet makes no software keys);
    /// - DigestSigning and SignOCI operations have a `token`, which is not `extractable`;
    /// - a DetachedSignature operation has no `token`, and the product has an ENDENTITY
    ///   CodeSigning certificate in `caInfo`;
    /// - `allowedGroups` is not empty; `approvalGroups` is not empty unless every allowed
    ///   group is also a blanket group (then every request is auto-approved); group ids are
    ///   not blank;
    /// - `requiredApprovals` is between 1 and [`MAX_REQUIRED_APPROVALS`];
    /// - `allowedRepositories`, when present, is a non-empty list of repository prefixes
    ///   (no scheme, tag, digest or whitespace);
    /// - every `caInfo` entry (and its `leafs`) has a non-blank `cn` and `profileID`.
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if !self.rnd_keys.is_empty() {
            return Err(invalid(
                "rndKeys",
                "software R&D keys are not supported (must be [])",
            ));
        }
        for (i, ca) in self.ca_info.iter().enumerate() {
            validate_ca(ca, &format!("caInfo[{i}]"))?;
        }
        let mut names = BTreeSet::new();
        for (i, op) in self.product_operations.iter().enumerate() {
            let path = format!("productOperations[{i}]");
            if op.name.trim().is_empty() {
                return Err(invalid(format!("{path}.name"), "must not be empty"));
            }
            if !names.insert(op.name.as_str()) {
                return Err(invalid(
                    format!("{path}.name"),
                    format!("duplicate operation name \"{}\"", op.name),
                ));
            }
            self.validate_operation(op, &path)?;
        }
        Ok(())
    }

    fn validate_operation(&self, op: &ProductOperation, path: &str) -> Result<()> {
        match op.operation_type {
            OperationType::DigestSigning | OperationType::SignOci => match &op.token {
                None => {
                    return Err(invalid(
                        format!("{path}.token"),
                        format!("required for {}", op.operation_type),
                    ));
                }
                Some(token) => {
                    if token.extractable {
                        return Err(invalid(
                            format!("{path}.token.extractable"),
                            "extractable signing keys are not supported",
                        ));
                    }
                    if token.name.trim().is_empty() {
                        return Err(invalid(format!("{path}.token.name"), "must not be empty"));
                    }
                }
            },
            OperationType::DetachedSignature => {
                if op.token.is_some() {
                    return Err(invalid(
                        format!("{path}.token"),
                        "DetachedSignature signs with the caInfo certificate's key, not a token",
                    ));
                }
                let has_cert = self.ca_info.iter().any(|ca| {
                    ca.certificate_type == CertificateType::EndEntity
                        && ca.use_case == UseCase::CodeSigning
                });
                if !has_cert {
                    return Err(invalid(
                        format!("{path}.operationType"),
                        "DetachedSignature needs a caInfo entry with certificateType ENDENTITY and useCase CodeSigning",
                    ));
                }
            }
        }
        let rule = &op.approval_rule;
        let rule_path = format!("{path}.approvalRule");
        for (field, groups) in [
            ("allowedGroups", &rule.allowed_groups),
            ("approvalGroups", &rule.approval_groups),
            ("blanketGroups", &rule.blanket_groups),
        ] {
            if let Some(i) = groups.iter().position(|g| g.trim().is_empty()) {
                return Err(invalid(
                    format!("{rule_path}.{field}[{i}]"),
                    "group id must not be empty",
                ));
            }
        }
        if rule.allowed_groups.is_empty() {
            return Err(invalid(
                format!("{rule_path}.allowedGroups"),
                "must name at least one group (nobody could request the operation)",
            ));
        }
        let all_blanket = rule
            .allowed_groups
            .iter()
            .all(|g| rule.blanket_groups.contains(g));
        if rule.approval_groups.is_empty() && !all_blanket {
            return Err(invalid(
                format!("{rule_path}.approvalGroups"),
                "must name at least one group unless every allowed group is a blanket group (requests could never be approved)",
            ));
        }
        if op.required_approvals == 0 || op.required_approvals > MAX_REQUIRED_APPROVALS {
            return Err(invalid(
                format!("{path}.requiredApprovals"),
                format!(
                    "must be between 1 and {MAX_REQUIRED_APPROVALS}, not {}",
                    op.required_approvals
                ),
            ));
        }
        if let Some(repos) = &op.allowed_repositories {
            if repos.is_empty() {
                return Err(invalid(
                    format!("{path}.allowedRepositories"),
                    "must not be empty when present (omit it to allow any repository)",
                ));
            }
            for (i, repo) in repos.iter().enumerate() {
                if let Some(problem) = repository_prefix_problem(repo) {
                    return Err(invalid(
                        format!("{path}.allowedRepositories[{i}]"),
                        format!("\"{repo}\" {problem}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The operation `name`, if this product may sign with it now: the product is Ready
    /// (approved) and not disabled.
    pub fn signing_operation(&self, name: &str) -> Result<&ProductOperation> {
        if self.state != Some(State::Ready) {
            let state = self
                .state
                .map_or_else(|| "unapproved".to_owned(), |s| s.to_string());
            return Err(Error::ProductNotReady {
                product: self.name.clone(),
                reason: format!("it is {state}, not Ready"),
            });
        }
        if self.enabled == Some(false) {
            return Err(Error::ProductNotReady {
                product: self.name.clone(),
                reason: "it is disabled".to_owned(),
            });
        }
        self.product_operations
            .iter()
            .find(|op| op.name == name)
            .ok_or_else(|| Error::UnknownOperation {
                product: self.name.clone(),
                operation: name.to_owned(),
            })
    }
}

fn repository_prefix_problem(repo: &str) -> Option<&'static str> {
    if repo.trim().is_empty() {
        Some("is empty")
    } else if repo.chars().any(char::is_whitespace) {
        Some("contains whitespace")
    } else if repo.contains("://") {
        Some("must not have a scheme")
    } else if repo.contains('@') {
        Some("must not have a digest")
    } else if repo
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':') && repo.contains('/'))
    {
        Some("must not have a tag")
    } else {
        None
    }
}

fn validate_ca(ca: &CaInfo, path: &str) -> Result<()> {
    if ca.cn.trim().is_empty() {
        return Err(invalid(format!("{path}.cn"), "must not be empty"));
    }
    if ca.profile_id.trim().is_empty() {
        return Err(invalid(format!("{path}.profileID"), "must not be empty"));
    }
    for (i, leaf) in ca.leafs.iter().flatten().enumerate() {
        validate_ca(leaf, &format!("{path}.leafs[{i}]"))?;
    }
    Ok(())
}

/// Whether `repository` (no tag or digest) lies under `prefix`: equal to it, or inside it
/// at a path boundary (`registry.example/team` allows `registry.example/team/app`, not
/// `registry.example/team-b/app`).
pub fn repository_matches(prefix: &str, repository: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    repository == prefix
        || repository
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

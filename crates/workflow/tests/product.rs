//! Product parsing and validation: the seed's templates, strictness, field paths.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rstest::rstest;
use serde_json::{Value, json};
use signet_workflow::Error;
use signet_workflow::product::{KeyType, OperationType, Product, ProductType, repository_matches};

const SEED_DIGEST: &str = include_str!("fixtures/seed_digest_signing.json");
const SEED_DETACHED: &str = include_str!("fixtures/seed_detached_signature.json");

fn seed_value() -> Value {
    serde_json::from_str(SEED_DIGEST).unwrap()
}

fn parse_value(v: &Value) -> Result<Product, Error> {
    Product::parse(serde_json::to_string(v).unwrap().as_bytes())
}

fn path_error(v: &Value) -> (String, String) {
    match parse_value(v) {
        Err(Error::InvalidProduct { path, message }) => (path, message),
        other => panic!("expected InvalidProduct, got {other:?}"),
    }
}

#[test]
fn parses_the_seed_digest_signing_product() {
    let p = Product::parse(SEED_DIGEST.as_bytes()).unwrap();
    assert_eq!(p.name, "$PRODUCTNAME");
    assert_eq!(p.product_type, Some(ProductType::Production));
    assert_eq!(p.enabled, Some(true));
    assert!(p.ca_info.is_empty() && p.rnd_keys.is_empty());
    let op = &p.product_operations[0];
    assert_eq!(op.name, "OCI digest signing");
    assert_eq!(op.operation_type, OperationType::DigestSigning);
    assert_eq!(op.token.as_ref().unwrap().key_type, KeyType::Rsa4096);
    assert_eq!(op.approval_rule.allowed_groups, ["$WRITERGROUP"]);
    assert_eq!(op.approval_rule.approval_groups, ["$APPROVERGROUP"]);
    assert!(op.approval_rule.blanket_groups.is_empty());
    assert_eq!(op.required_approvals, 1);
    assert_eq!(op.allowed_repositories, None);
    // Round trip: serializing gives the seed's JSON back.
    let back: Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
    assert_eq!(back, seed_value());
}

#[test]
fn parses_the_seed_detached_signature_product() {
    let p = Product::parse(SEED_DETACHED.as_bytes()).unwrap();
    let ca = &p.ca_info[0];
    assert_eq!(ca.cn, "OCI signing certificate for $PRODUCTNAME");
    assert_eq!(ca.key_type, KeyType::Rsa2048);
    assert_eq!(ca.profile_id, "$ENDSIGPROFILEID");
    assert_eq!(ca.external_root, Some(true));
    let op = &p.product_operations[0];
    assert_eq!(op.operation_type, OperationType::DetachedSignature);
    assert!(op.token.is_none());
    // `CN` is read; `cn` (the model's spelling) is written.
    let out: Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
    assert_eq!(
        out["caInfo"][0]["cn"],
        json!("OCI signing certificate for $PRODUCTNAME")
    );
}

#[test]
fn signet_extensions_parse() {
    let mut v = seed_value();
    v["productOperations"][0]["allowedRepositories"] = json!(["registry.example/team"]);
    v["productOperations"][0]["requiredApprovals"] = json!(2);
    let p = parse_value(&v).unwrap();
    assert_eq!(p.product_operations[0].required_approvals, 2);
    let back: Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
    assert_eq!(back, v);
}

#[rstest]
#[case::unknown_key_type(
    "/productOperations/0/token/keyType", json!("EC256"),
    "productOperations[0].token.keyType", "unknown key type \"EC256\"")]
#[case::unsupported_key_type(
    "/productOperations/0/token/keyType", json!("AES128"),
    "productOperations[0].token.keyType", "unsupported key type \"AES128\"")]
#[case::unknown_operation_type(
    "/productOperations/0/operationType", json!("DigestSign"),
    "productOperations[0].operationType", "unknown operation type \"DigestSign\"")]
#[case::unsupported_operation_type(
    "/productOperations/0/operationType", json!("SignHAB"),
    "productOperations[0].operationType", "unsupported operation type \"SignHAB\"")]
#[case::unknown_product_type("/productType", json!("Prod"), "productType", "unknown product type \"Prod\"")]
#[case::wrong_type("/enabled", json!("yes"), "enabled", "invalid type")]
#[case::groups_not_list(
    "/productOperations/0/approvalRule/allowedGroups", json!("g"),
    "productOperations[0].approvalRule.allowedGroups", "invalid type")]
#[case::zero_required_approvals(
    "/productOperations/0/requiredApprovals", json!(0),
    "productOperations[0].requiredApprovals", "between 1 and")]
#[case::negative_required_approvals(
    "/productOperations/0/requiredApprovals", json!(-1),
    "productOperations[0].requiredApprovals", "invalid value")]
#[case::empty_allowed_groups(
    "/productOperations/0/approvalRule/allowedGroups", json!([]),
    "productOperations[0].approvalRule.allowedGroups", "at least one group")]
#[case::empty_approval_groups(
    "/productOperations/0/approvalRule/approvalGroups", json!([]),
    "productOperations[0].approvalRule.approvalGroups", "at least one group")]
#[case::blank_group(
    "/productOperations/0/approvalRule/blanketGroups", json!([""]),
    "productOperations[0].approvalRule.blanketGroups[0]", "must not be empty")]
#[case::empty_repositories(
    "/productOperations/0/allowedRepositories", json!([]),
    "productOperations[0].allowedRepositories", "must not be empty")]
#[case::repository_with_tag(
    "/productOperations/0/allowedRepositories", json!(["registry.example/app:v1"]),
    "productOperations[0].allowedRepositories[0]", "must not have a tag")]
#[case::repository_with_scheme(
    "/productOperations/0/allowedRepositories", json!(["https://registry.example/app"]),
    "productOperations[0].allowedRepositories[0]", "scheme")]
#[case::extractable(
    "/productOperations/0/token/extractable", json!(true),
    "productOperations[0].token.extractable", "not supported")]
#[case::blank_name("/name", json!(" "), "name", "must not be empty")]
#[case::rnd_keys(
    "/rndKeys", json!([{"name": "k", "keyType": "AES128", "usage": "RndUboot"}]),
    "rndKeys", "not supported")]
#[case::missing_token(
    "/productOperations/0/token",
    Value::Null,
    "productOperations[0].token",
    "required for DigestSigning"
)]
fn invalid_fields_name_their_path(
    #[case] pointer: &str,
    #[case] value: Value,
    #[case] path: &str,
    #[case] message: &str,
) {
    let mut v = seed_value();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let obj = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    if value.is_null() {
        obj.remove(key);
    } else {
        obj.insert(key.to_owned(), value);
    }
    let (got_path, got_message) = path_error(&v);
    assert_eq!(got_path, path, "message: {got_message}");
    assert!(
        got_message.contains(message),
        "{got_message:?} lacks {message:?}"
    );
}

#[test]
fn error_display_is_path_colon_message() {
    let mut v = seed_value();
    v["productOperations"][0]["token"]["keyType"] = json!("EC256");
    let err = parse_value(&v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "productOperations[0].token.keyType: unknown key type \"EC256\""
    );
}

#[rstest]
#[case::root("", "surprise")]
#[case::operation("/productOperations/0", "productOperations[0].surprise")]
#[case::token("/productOperations/0/token", "productOperations[0].token.surprise")]
#[case::rule(
    "/productOperations/0/approvalRule",
    "productOperations[0].approvalRule.surprise"
)]
fn unknown_fields_are_refused(#[case] pointer: &str, #[case] path: &str) {
    let mut v = seed_value();
    v.pointer_mut(pointer)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert("surprise".into(), json!(1));
    let (got_path, message) = path_error(&v);
    assert_eq!(got_path, path);
    assert!(message.contains("unknown field `surprise`"), "{message}");
}

#[rstest]
#[case::name("/productOperations/0", "name")]
#[case::rule("/productOperations/0", "approvalRule")]
#[case::blanket("/productOperations/0/approvalRule", "blanketGroups")]
#[case::ca_info("", "caInfo")]
fn missing_required_fields_are_refused(#[case] pointer: &str, #[case] field: &str) {
    let mut v = seed_value();
    v.pointer_mut(pointer)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(field);
    let (_, message) = path_error(&v);
    assert!(
        message.contains(&format!("missing field `{field}`")),
        "{message}"
    );
}

#[test]
fn duplicate_operation_names_are_refused() {
    let mut v = seed_value();
    let op = v["productOperations"][0].clone();
    v["productOperations"].as_array_mut().unwrap().push(op);
    let (path, message) = path_error(&v);
    assert_eq!(path, "productOperations[1].name");
    assert!(message.contains("duplicate operation name"));
}

#[test]
fn detached_signature_needs_a_code_signing_certificate() {
    let mut v: Value = serde_json::from_str(SEED_DETACHED).unwrap();
    v["caInfo"][0]["useCase"] = json!("DeviceCA");
    let (path, message) = path_error(&v);
    assert_eq!(path, "productOperations[0].operationType");
    assert!(message.contains("CodeSigning"));
}

#[test]
fn approval_groups_may_be_empty_when_everyone_is_blanket() {
    let mut v = seed_value();
    v["productOperations"][0]["approvalRule"]["approvalGroups"] = json!([]);
    v["productOperations"][0]["approvalRule"]["blanketGroups"] = json!(["$WRITERGROUP"]);
    parse_value(&v).unwrap();
}

#[test]
fn not_json_is_malformed() {
    assert!(matches!(
        Product::parse(b"{"),
        Err(Error::MalformedJson {
            what: "product",
            ..
        })
    ));
}

#[rstest]
#[case("registry.example/team", "registry.example/team", true)]
#[case("registry.example/team", "registry.example/team/app", true)]
#[case("registry.example/team/", "registry.example/team/app", true)]
#[case("registry.example/team", "registry.example/team-b/app", false)]
#[case("registry.example/team/app", "registry.example/team", false)]
#[case("registry.example", "other.example/team", false)]
fn repository_prefixes_match_at_path_boundaries(
    #[case] prefix: &str,
    #[case] repository: &str,
    #[case] expected: bool,
) {
    assert_eq!(repository_matches(prefix, repository), expected);
}

#[test]
fn signing_operation_needs_a_ready_enabled_product() {
    let mut p = Product::parse(SEED_DIGEST.as_bytes()).unwrap();
    assert!(matches!(
        p.signing_operation("OCI digest signing"),
        Err(Error::ProductNotReady { .. })
    ));
    p.state = Some(signet_workflow::State::Ready);
    assert!(p.signing_operation("OCI digest signing").is_ok());
    assert!(matches!(
        p.signing_operation("nope"),
        Err(Error::UnknownOperation { .. })
    ));
    p.enabled = Some(false);
    assert!(matches!(
        p.signing_operation("OCI digest signing"),
        Err(Error::ProductNotReady { .. })
    ));
}

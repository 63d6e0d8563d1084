//! Parsing, validation and selection of whole trust policy documents.

use serde_json::{Value, json};
use signet_notation_policy::{
    Action, DnProblem, Error, Level, Outcome, RegistryScopes, TrustPolicyDocument, TrustStoreType,
    TrustedIdentity, Validation, VerifyTimestamp,
};

/// The spec's first example (comments removed).
const SPEC_SIMPLE: &str = r#"{
    "version": "1.0",
    "trustPolicies": [
        {
            "name": "wabbit-networks-images",
            "registryScopes": [ "*" ],
            "signatureVerification": { "level" : "audit" },
            "trustStores": ["ca:acme-rockets"],
            "trustedIdentities": [
              "x509.subject: C=US, ST=WA, L=Seattle, O=acme-rockets.io, OU=Finance, CN=SecureBuilder"
            ]
        }
    ]
}"#;

/// The spec's second example (comments removed).
const SPEC_MIXED: &str = r#"{
    "version": "1.0",
    "trustPolicies": [
        {
            "name": "wabbit-networks-images",
            "registryScopes": [
              "registry.acme-rockets.io/software/net-monitor",
              "registry.acme-rockets.io/software/net-logger"
            ],
            "signatureVerification": { "level" : "strict" },
            "trustStores": ["ca:wabbit-networks"],
            "trustedIdentities": [
              "x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools"
            ]
        },
        {
            "name": "unsigned-image",
            "registryScopes": [ "registry.wabbit-networks.io/software/unsigned/net-utils" ],
            "signatureVerification": { "level" : "skip" }
        },
        {
            "name": "use-expired-image",
            "registryScopes": [ "registry.acme-rockets.io/software/legacy/metrics" ],
            "signatureVerification": {
              "level" : "strict",
              "override" : { "expiry" : "log", "revocation" : "skip" }
            },
            "trustStores": ["ca:acme-rockets"],
            "trustedIdentities": ["*"]
        },
        {
            "name": "global-policy-for-all-other-images",
            "registryScopes": [ "*" ],
            "signatureVerification": { "level" : "audit" },
            "trustStores": ["ca:acme-rockets", "ca:acme-rockets-ca2"],
            "trustedIdentities": [
              "x509.subject: C=US, ST=WA, L=Seattle, O=acme-rockets.io, OU=Finance, CN=SecureBuilder"
            ]
        }
    ]
}"#;

/// The example of the project's notes (timestamping).
const NOTES_EXAMPLE: &str = r#"{"version":"1.0","trustPolicies":[{
   "name":"prod-images",
   "registryScopes":["registry.example.com/team/app"],
   "signatureVerification":{"level":"strict","override":{"revocation":"log"},"verifyTimestamp":"afterCertExpiry"},
   "trustStores":["ca:acme-root","tsa:public-tsa","signingAuthority:sa_1.x-y"],
   "trustedIdentities":["x509.subject: C=US, ST=WA, O=acme, OU=Build, CN=SecureBuilder"]
}]}"#;

fn parse(doc: &str) -> Result<TrustPolicyDocument, Error> {
    doc.parse()
}

fn good_policy() -> Value {
    json!({
        "name": "p",
        "registryScopes": ["registry.example.com/team/app"],
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:acme"],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, O=acme"]
    })
}

fn doc_of(policies: Vec<Value>) -> String {
    json!({"version": "1.0", "trustPolicies": policies}).to_string()
}

/// A document with one policy: the good one, changed by `edit`.
fn one(
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Result<TrustPolicyDocument, Error> {
    let mut p = good_policy();
    if let Value::Object(map) = &mut p {
        edit(map);
    }
    parse(&doc_of(vec![p]))
}

/// Asserts the refusal and that its message names policy "p" and `field`.
fn refused(result: Result<TrustPolicyDocument, Error>, field: &str) -> Error {
    let Err(err) = result else {
        panic!("document must be refused");
    };
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains(field), "{msg} should name {field}");
    err
}

fn refused_in_p(result: Result<TrustPolicyDocument, Error>, field: &str) -> Error {
    let err = refused(result, field);
    assert!(
        err.to_string().contains("\"p\""),
        "{err} should name the policy"
    );
    err
}

#[test]
fn spec_examples_parse() {
    let simple = parse(SPEC_SIMPLE).unwrap();
    assert_eq!(simple.policies().len(), 1);
    let p = &simple.policies()[0];
    assert!(p.is_global());
    assert_eq!(p.level(), Level::Audit);
    assert_eq!(
        p.trust_stores_of(TrustStoreType::Ca).collect::<Vec<_>>(),
        ["acme-rockets"]
    );

    let mixed = parse(SPEC_MIXED).unwrap();
    assert_eq!(mixed.policies().len(), 4);
    let skip = mixed.policy("unsigned-image").unwrap();
    assert_eq!(skip.level(), Level::Skip);
    assert!(skip.trust_stores().is_empty() && skip.trusted_identities().is_empty());
    let expired = mixed.policy("use-expired-image").unwrap();
    assert_eq!(expired.action(Validation::Expiry), Action::Log);
    assert_eq!(expired.action(Validation::Revocation), Action::Skip);
    assert_eq!(expired.action(Validation::Authenticity), Action::Enforce);
    assert_eq!(expired.trusted_identities(), [TrustedIdentity::Any]);
    assert_eq!(
        mixed.global_policy().unwrap().name(),
        "global-policy-for-all-other-images"
    );

    let notes = parse(NOTES_EXAMPLE).unwrap();
    let p = &notes.policies()[0];
    assert_eq!(
        p.signature_verification().verify_timestamp(),
        VerifyTimestamp::AfterCertExpiry
    );
    assert_eq!(
        p.trust_stores_of(TrustStoreType::Tsa).collect::<Vec<_>>(),
        ["public-tsa"]
    );
    assert_eq!(
        p.trust_stores_of(TrustStoreType::SigningAuthority)
            .collect::<Vec<_>>(),
        ["sa_1.x-y"]
    );
    assert_eq!(p.trust_stores()[0].to_string(), "ca:acme-root");
    assert_eq!(p.action(Validation::Revocation), Action::Log);
    assert!(p.trusts_subject(&[
        ("C", "US"),
        ("ST", "WA"),
        ("O", "acme"),
        ("OU", "Build"),
        ("CN", "SecureBuilder")
    ]));
    assert!(!p.trusts_subject(&[("C", "US"), ("ST", "WA"), ("O", "acme"), ("OU", "Build")]));
}

#[test]
fn defaults() {
    let d = one(|_| {}).unwrap();
    let sv = d.policies()[0].signature_verification();
    assert_eq!(sv.verify_timestamp(), VerifyTimestamp::Always);
    assert!(sv.overrides().is_empty());
    for vt in ["always", ""] {
        let d = one(|p| {
            p["signatureVerification"]["verifyTimestamp"] = json!(vt);
        })
        .unwrap();
        assert_eq!(
            d.policies()[0].signature_verification().verify_timestamp(),
            VerifyTimestamp::Always
        );
    }
}

#[test]
fn json_and_types() {
    let err = refused(parse("{"), "not valid");
    assert!(matches!(err, Error::Json { line: 1, .. }));
    let err = refused(
        parse(r#"{"version": 1, "trustPolicies": []}"#),
        "invalid type",
    );
    assert!(matches!(err, Error::Json { .. }));
    refused(
        one(|p| {
            p["trustStores"] = json!("ca:acme");
        }),
        "invalid type",
    );
    refused(parse("[]"), "expected a trust policy document object");
    refused(
        one(|p| {
            p["signatureVerification"] = json!("strict");
        }),
        "expected a signatureVerification object",
    );
}

#[test]
fn version_rules() {
    assert_eq!(
        parse(r#"{"trustPolicies": []}"#).unwrap_err(),
        Error::MissingVersion
    );
    assert_eq!(
        parse(r#"{"version": ""}"#).unwrap_err(),
        Error::MissingVersion
    );
    let err = refused(parse(r#"{"version": "2.0"}"#), "\"2.0\"");
    assert_eq!(
        err,
        Error::UnsupportedVersion {
            version: "2.0".into()
        }
    );
    refused(parse(r#"{"version": "1.0"}"#), "trustPolicies");
    refused(
        parse(r#"{"version": "1.0", "trustPolicies": []}"#),
        "trustPolicies",
    );
}

#[test]
fn unknown_fields() {
    let err = refused(
        parse(r#"{"version": "1.0", "trustPolicies": [], "extra": 1}"#),
        "extra",
    );
    assert!(matches!(err, Error::UnknownDocumentField { .. }));
    let err = refused_in_p(
        one(|p| {
            p.insert("globalPolicy".into(), json!(true));
        }),
        "globalPolicy",
    );
    assert!(matches!(err, Error::UnknownPolicyField { .. }));
    refused_in_p(
        one(|p| {
            p["signatureVerification"]["skipTimestampRevocation"] = json!(true);
        }),
        "signatureVerification.skipTimestampRevocation",
    );
}

#[test]
fn names_are_required_and_unique() {
    let err = refused(
        one(|p| {
            p.remove("name");
        }),
        "#0",
    );
    assert_eq!(err, Error::MissingName { index: 0 });
    refused(
        one(|p| {
            p["name"] = json!("");
        }),
        "name",
    );
    let mut second = good_policy();
    second["registryScopes"] = json!(["registry.example.com/other"]);
    let err = refused_in_p(parse(&doc_of(vec![good_policy(), second])), "name");
    assert_eq!(err, Error::DuplicateName { policy: "p".into() });
    // The second unnamed policy is named by position.
    let mut unnamed = good_policy();
    unnamed.as_object_mut().unwrap().remove("name");
    assert_eq!(
        parse(&doc_of(vec![good_policy(), unnamed])).unwrap_err(),
        Error::MissingName { index: 1 }
    );
}

#[test]
fn registry_scope_rules() {
    refused_in_p(
        one(|p| {
            p.remove("registryScopes");
        }),
        "registryScopes",
    );
    let err = refused_in_p(
        one(|p| {
            p["registryScopes"] = json!([]);
        }),
        "registryScopes",
    );
    assert!(matches!(err, Error::EmptyRegistryScopes { .. }));
    let err = refused_in_p(
        one(|p| {
            p["registryScopes"] = json!(["*", "registry.example.com/a"]);
        }),
        "\"*\"",
    );
    assert!(matches!(err, Error::GlobalScopeNotAlone { .. }));
    for wildcard in ["registry.example.com/*", "*.example.com/a", "**"] {
        let err = refused_in_p(
            one(|p| {
                p["registryScopes"] = json!([wildcard]);
            }),
            wildcard,
        );
        assert!(matches!(err, Error::WildcardScope { .. }), "{err}");
    }
    for bad in [
        "app",
        "registry.example.com/app:v1",
        "registry.example.com/app@sha256:0000",
        "https://registry.example.com/app",
        "registry.example.com/App",
        "",
    ] {
        let err = refused_in_p(
            one(|p| {
                p["registryScopes"] = json!([bad]);
            }),
            "registry scope",
        );
        assert!(matches!(err, Error::InvalidScope { .. }), "{err}");
    }
    let err = refused_in_p(
        one(|p| {
            p["registryScopes"] = json!(["r.io/a", "r.io/a"]);
        }),
        "r.io/a",
    );
    assert!(matches!(err, Error::DuplicateScope { .. }));
}

#[test]
fn a_scope_belongs_to_one_policy() {
    let mut q = good_policy();
    q["name"] = json!("q");
    q["registryScopes"] = json!([
        "registry.example.com/other",
        "registry.example.com/team/app"
    ]);
    let err = parse(&doc_of(vec![good_policy(), q])).unwrap_err();
    assert_eq!(
        err,
        Error::ScopeInMultiplePolicies {
            scope: "registry.example.com/team/app".into(),
            first: "p".into(),
            second: "q".into()
        }
    );
    assert!(err.to_string().contains("\"q\""));
}

#[test]
fn one_global_policy_at_most() {
    let mut a = good_policy();
    a["registryScopes"] = json!(["*"]);
    let mut b = a.clone();
    b["name"] = json!("q");
    let err = parse(&doc_of(vec![a, b])).unwrap_err();
    assert_eq!(
        err,
        Error::MultipleGlobalPolicies {
            first: "p".into(),
            second: "q".into()
        }
    );
}

#[test]
fn skip_rules() {
    let skip = |p: &mut serde_json::Map<String, Value>| {
        p["signatureVerification"] = json!({"level": "skip"});
        p.remove("trustStores");
        p.remove("trustedIdentities");
    };
    let d = one(skip).unwrap();
    assert_eq!(d.policies()[0].level(), Level::Skip);
    // Empty arrays count as absent (as in notation).
    one(|p| {
        skip(p);
        p.insert("trustStores".into(), json!([]));
        p.insert("trustedIdentities".into(), json!([]));
    })
    .unwrap();
    let err = refused_in_p(
        one(|p| {
            skip(p);
            p.insert("trustStores".into(), json!(["ca:acme"]));
        }),
        "trustStores",
    );
    assert!(matches!(err, Error::SkipWithTrust { .. }));
    refused_in_p(
        one(|p| {
            skip(p);
            p.insert("trustedIdentities".into(), json!(["*"]));
        }),
        "trustedIdentities",
    );
    let err = refused_in_p(
        one(|p| {
            skip(p);
            p["registryScopes"] = json!(["*"]);
        }),
        "skip",
    );
    assert!(matches!(err, Error::GlobalSkip { .. }));
    let err = refused_in_p(
        one(|p| {
            skip(p);
            p["signatureVerification"]["override"] = json!({"revocation": "log"});
        }),
        "signatureVerification.override",
    );
    assert!(matches!(err, Error::SkipOverridden { .. }));
    // An empty override map is no override.
    one(|p| {
        skip(p);
        p["signatureVerification"]["override"] = json!({});
    })
    .unwrap();
}

#[test]
fn level_rules() {
    refused_in_p(
        one(|p| {
            p.remove("signatureVerification");
        }),
        "signatureVerification",
    );
    refused_in_p(
        one(|p| {
            p["signatureVerification"] = json!({});
        }),
        "signatureVerification.level",
    );
    refused_in_p(
        one(|p| {
            p["signatureVerification"] = json!({"level": ""});
        }),
        "signatureVerification.level",
    );
    for bad in ["Strict", "custom", "enforce"] {
        let err = refused_in_p(
            one(|p| {
                p["signatureVerification"] = json!({"level": bad});
            }),
            "signatureVerification.level",
        );
        assert!(matches!(err, Error::InvalidLevel { .. }));
    }
    for level in ["strict", "permissive", "audit"] {
        let d = one(|p| {
            p["signatureVerification"] = json!({"level": level});
        })
        .unwrap();
        assert_eq!(d.policies()[0].level().as_str(), level);
    }
}

#[test]
fn override_rules() {
    let with = |o: Value| {
        one(move |p| {
            p["signatureVerification"]["override"] = o;
        })
    };
    for key in ["authenticity", "authenticTimestamp", "expiry", "revocation"] {
        for action in ["enforce", "log"] {
            let d = with(json!({ key: action })).unwrap();
            let v = Validation::from_name(key).unwrap();
            assert_eq!(d.policies()[0].action(v).as_str(), action);
        }
    }
    let d = with(json!({"revocation": "skip"})).unwrap();
    assert_eq!(d.policies()[0].action(Validation::Revocation), Action::Skip);
    for key in ["authenticity", "authenticTimestamp", "expiry"] {
        let err = refused_in_p(with(json!({ key: "skip" })), key);
        assert!(matches!(err, Error::InvalidOverrideAction { .. }));
        assert!(err.to_string().contains("signatureVerification.override"));
    }
    let err = refused_in_p(with(json!({"revocation": "ignore"})), "\"ignore\"");
    assert!(matches!(err, Error::InvalidOverrideAction { .. }));
    for action in ["enforce", "log", "skip"] {
        let err = refused_in_p(with(json!({"integrity": action})), "integrity");
        assert_eq!(err, Error::IntegrityOverridden { policy: "p".into() });
    }
    let err = refused_in_p(with(json!({"timestamp": "log"})), "\"timestamp\"");
    assert!(matches!(err, Error::UnknownOverride { .. }));
    refused(with(json!({"expiry": 1})), "invalid type");
}

#[test]
fn verify_timestamp_rules() {
    let err = refused_in_p(
        one(|p| {
            p["signatureVerification"]["verifyTimestamp"] = json!("never");
        }),
        "signatureVerification.verifyTimestamp",
    );
    assert!(matches!(err, Error::InvalidVerifyTimestamp { .. }));
    refused_in_p(
        one(|p| {
            p["signatureVerification"]["verifyTimestamp"] = json!("AfterCertExpiry");
        }),
        "verifyTimestamp",
    );
}

#[test]
fn trust_store_rules() {
    for field in ["trustStores", "trustedIdentities"] {
        let err = refused_in_p(
            one(|p| {
                p.remove(field);
            }),
            field,
        );
        assert!(matches!(err, Error::MissingTrust { .. }));
        let err = refused_in_p(
            one(|p| {
                p[field] = json!([]);
            }),
            field,
        );
        assert!(matches!(err, Error::MissingTrust { .. }));
    }
    let store = |s: &str| {
        let s = s.to_owned();
        one(move |p| {
            p["trustStores"] = json!([s]);
        })
    };
    for ok in ["ca:a", "signingAuthority:A_b.c-9", "tsa:x"] {
        store(ok).unwrap();
    }
    let err = refused_in_p(store("acme"), "trustStores");
    assert!(matches!(err, Error::MalformedTrustStore { .. }));
    for bad in ["x509:acme", "CA:acme", "signingauthority:acme", ":acme"] {
        let err = refused_in_p(store(bad), "trustStores");
        assert!(matches!(err, Error::UnknownTrustStoreType { .. }), "{err}");
    }
    for bad in ["ca:", "ca:a/b", "ca:a b", "ca:a:b", "ca:é"] {
        let err = refused_in_p(store(bad), "trustStores");
        assert!(matches!(err, Error::InvalidTrustStoreName { .. }), "{err}");
    }
}

#[test]
fn trusted_identity_rules() {
    let ids = |v: Value| {
        one(move |p| {
            p["trustedIdentities"] = v;
        })
    };
    let err = refused_in_p(
        ids(json!(["*", "x509.subject: C=US, ST=WA, O=a"])),
        "trustedIdentities",
    );
    assert!(matches!(err, Error::WildcardIdentityNotAlone { .. }));
    refused_in_p(ids(json!(["*", "*"])), "trustedIdentities");
    let err = refused_in_p(ids(json!([""])), "trustedIdentities");
    assert!(matches!(err, Error::EmptyTrustedIdentity { .. }));
    let err = refused_in_p(ids(json!(["x509.san: foo"])), "x509.san");
    assert!(matches!(err, Error::UnsupportedIdentity { .. }));
    let err = refused_in_p(ids(json!(["x509.subject: C=US, O=a"])), "trustedIdentities");
    assert!(matches!(
        err,
        Error::InvalidTrustedIdentity {
            problem: DnProblem::MissingMandatory { attribute: "ST" },
            ..
        }
    ));
    let err = refused_in_p(
        ids(json!(["x509.subject: C=US, ST=WA, O=a+OU=b"])),
        "trustedIdentities",
    );
    assert!(matches!(
        err,
        Error::InvalidTrustedIdentity {
            problem: DnProblem::MultiValuedRdn,
            ..
        }
    ));
    refused_in_p(
        ids(json!(["x509.subject: C=US, ST=WA, O=#04"])),
        "trustedIdentities",
    );
    // Distinct identities are fine.
    let d = ids(json!([
        "x509.subject: C=US, ST=WA, O=a, OU=x",
        "x509.subject: C=US, ST=WA, O=a, OU=y",
        r"x509.subject: C=US, S=WA, O=b\, Inc."
    ]))
    .unwrap();
    assert_eq!(d.policies()[0].trusted_identities().len(), 3);
    assert!(d.policies()[0].trusts_subject(&[("C", "US"), ("ST", "WA"), ("O", "b, Inc.")]));
}

#[test]
fn overlapping_identities_are_refused() {
    // The spec's example: the second is a subset of the first.
    let err = one(|p| {
        p["trustedIdentities"] = json!([
            "x509.subject: C=US, ST=WA, O=wabbit-network.io, OU=org1",
            "x509.subject:  C=US, ST=WA, O=wabbit-network.io"
        ]);
    })
    .unwrap_err();
    assert!(matches!(err, Error::OverlappingIdentities { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("\"p\"") && msg.contains("trustedIdentities"),
        "{msg}"
    );
    // Identical after normalisation.
    let err = one(|p| {
        p["trustedIdentities"] = json!([
            "x509.subject: C=US, ST=WA, O=a",
            "x509.subject: o=a, s=WA, c=US"
        ]);
    })
    .unwrap_err();
    assert!(matches!(err, Error::OverlappingIdentities { .. }));
}

#[test]
fn selection() {
    let d = parse(SPEC_MIXED).unwrap();
    let name = |repo: &str| d.select(repo).map(|p| p.name().to_owned());
    assert_eq!(
        name("registry.acme-rockets.io/software/net-monitor").unwrap(),
        "wabbit-networks-images"
    );
    assert_eq!(
        name("registry.acme-rockets.io/software/net-logger").unwrap(),
        "wabbit-networks-images"
    );
    assert_eq!(
        name("registry.wabbit-networks.io/software/unsigned/net-utils").unwrap(),
        "unsigned-image"
    );
    assert_eq!(
        name("registry.acme-rockets.io/software/legacy/metrics").unwrap(),
        "use-expired-image"
    );
    // No prefix matching: a sub-repository or parent goes to the global policy.
    for repo in [
        "registry.acme-rockets.io/software/net-monitor/sub",
        "registry.acme-rockets.io/software",
        "docker.io/library/alpine",
    ] {
        assert_eq!(
            name(repo).unwrap(),
            "global-policy-for-all-other-images",
            "{repo}"
        );
    }
}

#[test]
fn selection_without_global_policy() {
    let d = parse(NOTES_EXAMPLE).unwrap();
    assert_eq!(
        d.select("registry.example.com/team/app").unwrap().name(),
        "prod-images"
    );
    let err = d.select("registry.example.com/team/other").unwrap_err();
    assert_eq!(
        err,
        Error::NoApplicablePolicy {
            repository: "registry.example.com/team/other".into()
        }
    );
    assert!(err.to_string().contains("registry.example.com/team/other"));
}

#[test]
fn selection_takes_the_repository_as_given() {
    let d = parse(SPEC_SIMPLE).unwrap();
    for bad in [
        "alpine",
        "registry.example.com/app:latest",
        "registry.example.com/app@sha256:00",
        "https://registry.example.com/app",
        "*",
    ] {
        let err = d.select(bad).unwrap_err();
        assert!(
            matches!(err, Error::InvalidRepository { .. }),
            "{bad}: {err}"
        );
    }
    // No normalisation: a repository differing in case of its path is invalid, not matched.
    assert!(d.select("registry.example.com/App").is_err());
}

#[test]
fn selected_policy_drives_the_outcome() {
    let d = parse(SPEC_MIXED).unwrap();
    let skip = d
        .select("registry.wabbit-networks.io/software/unsigned/net-utils")
        .unwrap();
    let verdict = Outcome::new(skip).finish().unwrap();
    assert!(verdict.skipped && verdict.is_success());

    let legacy = d
        .select("registry.acme-rockets.io/software/legacy/metrics")
        .unwrap();
    let mut out = Outcome::new(legacy);
    for v in Validation::SPEC_ORDER {
        if !out.should_run(v) {
            continue;
        }
        let result = if v == Validation::Expiry {
            Err("signature expired".to_owned())
        } else {
            Ok(())
        };
        out.record(v, result).unwrap();
    }
    let verdict = out.finish().unwrap();
    assert!(verdict.is_success() && !verdict.skipped);
    assert_eq!(verdict.logged.len(), 1);
    assert_eq!(verdict.logged[0].validation, Validation::Expiry);
}

#[test]
fn registry_scopes_are_exposed() {
    let d = parse(SPEC_MIXED).unwrap();
    assert_eq!(
        d.policies()[0].registry_scopes(),
        &RegistryScopes::Repositories(vec![
            "registry.acme-rockets.io/software/net-monitor".into(),
            "registry.acme-rockets.io/software/net-logger".into()
        ])
    );
}

//! `optionalParameters`: parsing the hosted service's array, refusing what signet does not
//! support with the parameter's name, the checks against the request's hash, the stored form
//! (records without options still load), and the wire array written back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use signet_workflow::Error;
use signet_workflow::digest::HashAlgorithm;
use signet_workflow::options::{SaltLength, SignatureEncoding, SignaturePadding, SigningOptions};

fn parse(v: Value) -> Result<SigningOptions, Error> {
    SigningOptions::parse(&v)
}

fn message(v: Value) -> String {
    parse(v).unwrap_err().to_string()
}

#[test]
fn the_hosted_example_parses() {
    let o = parse(json!([
        {"hashAlgorithm": "SHA256"},
        {"signaturePadding": "PSS"},
        {"saltLength": 32},
        {"signatureEncoding": "RAW"},
        {"signatureFormat": "PKCS1"}
    ]))
    .unwrap();
    assert_eq!(o.hash_algorithm, Some(HashAlgorithm::Sha256));
    assert_eq!(o.padding(), SignaturePadding::Pss);
    assert_eq!(o.salt_length, Some(SaltLength::Bytes(32)));
    assert_eq!(o.encoding(), SignatureEncoding::Raw);
    o.check(HashAlgorithm::Sha256).unwrap();
    // Written back in a stable order, one property per object.
    assert_eq!(
        Value::from(o.to_parameters()),
        json!([
            {"hashAlgorithm": "SHA256"},
            {"signaturePadding": "PSS"},
            {"saltLength": 32},
            {"signatureEncoding": "RAW"},
            {"signatureFormat": "PKCS1"}
        ])
    );
}

#[test]
fn defaults_when_nothing_is_given() {
    let o = parse(json!([])).unwrap();
    assert!(o.is_empty());
    assert_eq!(o.padding(), SignaturePadding::Pkcs1v15);
    assert_eq!(o.encoding(), SignatureEncoding::Der);
    assert!(o.to_parameters().is_empty());
    for h in HashAlgorithm::ALL {
        o.check(*h).unwrap();
    }
}

#[test]
fn salt_length_is_the_hash_length_only() {
    for (hash, len) in [
        (HashAlgorithm::Sha256, 32),
        (HashAlgorithm::Sha384, 48),
        (HashAlgorithm::Sha512, 64),
    ] {
        for salt in [json!(len), json!("hash"), json!(len.to_string())] {
            let o = parse(json!([{"signaturePadding": "PSS"}, {"saltLength": salt}])).unwrap();
            o.check(hash).unwrap();
        }
        let o = parse(json!([{"signaturePadding": "PSS"}, {"saltLength": 20}])).unwrap();
        let e = o.check(hash).unwrap_err().to_string();
        assert!(
            e.contains("saltLength")
                && e.contains("20 is not supported")
                && e.contains(&len.to_string()),
            "{e}"
        );
    }
    // A salt length without PSS is a mistake, whatever its value.
    let o = parse(json!([{"saltLength": "hash"}])).unwrap();
    let e = o.check(HashAlgorithm::Sha256).unwrap_err().to_string();
    assert!(e.contains("saltLength") && e.contains("PSS only"), "{e}");
    for bad in [
        json!(-1),
        json!(1.5),
        json!("max"),
        json!(null),
        json!(""),
        json!([32]),
    ] {
        let e = message(json!([{"signaturePadding": "PSS"}, {"saltLength": bad}]));
        assert!(e.starts_with("optionalParameters: saltLength:"), "{e}");
    }
}

#[test]
fn unsupported_values_and_names_are_refused_by_name() {
    let e = message(json!([{"signaturePadding": "NONE"}]));
    assert!(
        e.contains("signaturePadding") && e.contains("unsupported signature padding \"NONE\""),
        "{e}"
    );
    let e = message(json!([{"signaturePadding": "pss"}]));
    assert!(e.contains("unknown signature padding \"pss\""), "{e}");
    let e = message(json!([{"signatureEncoding": "RAW_LE"}]));
    assert!(
        e.contains("unsupported signature encoding \"RAW_LE\""),
        "{e}"
    );
    let e = message(json!([{"signatureFormat": "CMS"}]));
    assert!(e.contains("unsupported signature format \"CMS\""), "{e}");
    let e = message(json!([{"cmsCertificates": "MIIB"}]));
    assert!(
        e.contains("cmsCertificates") && e.contains("not supported"),
        "{e}"
    );
    let e = message(json!([{"colour": "red"}]));
    assert_eq!(
        e,
        "optionalParameters: unknown parameter \"colour\" (supported: hashAlgorithm, signaturePadding, saltLength, signatureEncoding, signatureFormat)"
    );
    assert!(matches!(
        parse(json!([{"colour": "red"}])),
        Err(Error::UnknownOptionalParameter { parameter }) if parameter == "colour"
    ));
    let e = message(json!([{"hashAlgorithm": "MD5"}]));
    assert!(e.contains("hashAlgorithm") && e.contains("MD5"), "{e}");
    let e = message(json!([{"signaturePadding": 1}]));
    assert!(
        e.contains("signaturePadding") && e.contains("not a string"),
        "{e}"
    );
    let e = message(json!([{"signaturePadding": "PSS"}, {"signaturePadding": "PSS"}]));
    assert!(e.contains("more than once"), "{e}");
}

#[test]
fn the_shape_must_be_an_array_of_one_property_objects() {
    for (bad, want) in [
        (json!({"signaturePadding": "PSS"}), "must be an array"),
        (json!("PSS"), "must be an array"),
        (json!([["PSS"]]), "[0] is not an object"),
        (json!([{}]), "[0] must have exactly one property, not 0"),
        (
            json!([{"signaturePadding": "PSS", "saltLength": 32}]),
            "[0] must have exactly one property, not 2",
        ),
    ] {
        let e = message(bad);
        assert!(
            e.starts_with("optionalParameters: ") && e.contains(want),
            "{e}"
        );
    }
}

#[test]
fn hash_algorithm_is_an_alias_of_the_top_level_field() {
    let o = parse(json!([{"hashAlgorithm": "SHA512"}])).unwrap();
    assert_eq!(
        o.hash_algorithm_with(None).unwrap(),
        Some(HashAlgorithm::Sha512)
    );
    assert_eq!(
        o.hash_algorithm_with(Some(HashAlgorithm::Sha512)).unwrap(),
        Some(HashAlgorithm::Sha512)
    );
    let e = o
        .hash_algorithm_with(Some(HashAlgorithm::Sha256))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("SHA512 disagrees") && e.contains("SHA256"),
        "{e}"
    );
    assert!(o.check(HashAlgorithm::Sha256).is_err());
    let none = SigningOptions::default();
    assert_eq!(none.hash_algorithm_with(None).unwrap(), None);
}

#[test]
fn stored_form_round_trips_and_old_records_load() {
    let o = parse(json!([{"signaturePadding": "PSS"}, {"saltLength": "hash"}])).unwrap();
    let stored = serde_json::to_value(o).unwrap();
    assert_eq!(
        stored,
        json!({"signaturePadding": "PSS", "saltLength": "hash"})
    );
    let back: SigningOptions = serde_json::from_value(stored).unwrap();
    assert_eq!(back, o);
    let empty: SigningOptions = serde_json::from_value(json!({})).unwrap();
    assert!(empty.is_empty());
    assert!(serde_json::from_value::<SigningOptions>(json!({"padding": "PSS"})).is_err());
}

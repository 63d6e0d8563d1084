//! Scope lookup (most specific wins) and signedIdentity matching.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rstest::rstest;
use signet_policy::{
    DockerReference, ImageName, Policy, Requirement, ScopeMatch, SignedIdentity, Transport,
};

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const D2: &str = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// Each scope's requirement list is a single `signedBy` whose keyPath names the scope, so the
/// lookup result identifies the scope.
fn policy(transport: &str, scopes: &[&str]) -> Policy {
    let entries: Vec<String> = scopes
        .iter()
        .map(|s| {
            format!(
                r#""{s}":[{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{transport}|{s}"}}]"#
            )
        })
        .collect();
    let json = format!(
        r#"{{"default":[{{"type":"reject"}}],"transports":{{"{transport}":{{{}}}}}}}"#,
        entries.join(",")
    );
    Policy::parse(json.as_bytes()).unwrap()
}

fn matched(p: &Policy, transport: &Transport, image: &ImageName) -> (String, ScopeMatch) {
    let (reqs, scope) = p.requirements_for(transport, image);
    let name = match &reqs[0] {
        Requirement::Reject => "default".to_string(),
        r => r.resources()[0].0.split('|').nth(1).unwrap().to_string(),
    };
    (name, scope)
}

const DOCKER_SCOPES: &[&str] = &[
    "",
    "a.b.example.com:5000/ns/repo:tag",
    "a.b.example.com:5000/ns/repo",
    "a.b.example.com:5000/ns",
    "a.b.example.com:5000",
    "a.b.example.com",
    "*.b.example.com",
    "*.example.com",
    "*.com",
];

#[rstest]
#[case(&["", "a.b.example.com:5000/ns/repo", "a.b.example.com:5000/ns/repo:tag", "*.com"], "a.b.example.com:5000/ns/repo:tag")]
#[case(&["", "a.b.example.com:5000/ns", "a.b.example.com:5000/ns/repo", "*.example.com"], "a.b.example.com:5000/ns/repo")]
#[case(&["a.b.example.com:5000", "a.b.example.com:5000/ns"], "a.b.example.com:5000/ns")]
#[case(&["a.b.example.com:5000", "*.b.example.com", ""], "a.b.example.com:5000")]
// a host without port is not a parent of host:port: the wildcards come next.
#[case(&["a.b.example.com", "*.b.example.com", ""], "*.b.example.com")]
#[case(&["a.b.example.com", "*.com", "*.example.com"], "*.example.com")]
#[case(&["a.b.example.com", "*.com", "example.com"], "*.com")]
#[case(&["a.b.example.com", "", "a.b.example.com:5000/ns/repo:other", "a.b.example.com:5000/ns/rep", "a.b.example.com:5000/n"], "")]
fn docker_most_specific_wins(#[case] scopes: &[&str], #[case] expected: &str) {
    let p = policy("docker", scopes);
    let image = ImageName::docker("a.b.example.com:5000/ns/repo:tag").unwrap();
    let (name, scope) = matched(&p, &Transport::Docker, &image);
    assert_eq!(name, expected, "scopes {scopes:?}");
    if expected.is_empty() {
        assert_eq!(
            scope,
            ScopeMatch::TransportDefault {
                transport: "docker".into()
            }
        );
        assert_eq!(scope.to_string(), r#"transports.docker[""]"#);
    } else {
        assert_eq!(
            scope,
            ScopeMatch::Scope {
                transport: "docker".into(),
                scope: expected.into()
            }
        );
        assert_eq!(
            scope.to_string(),
            format!("transports.docker[{expected:?}]")
        );
    }
}

#[test]
fn docker_full_order() {
    // Walk the candidates by removing the winning scope each time.
    let mut scopes: Vec<&str> = DOCKER_SCOPES.to_vec();
    let image = ImageName::docker("a.b.example.com:5000/ns/repo:tag").unwrap();
    let mut order = Vec::new();
    loop {
        let p = policy("docker", &scopes);
        let (name, _) = matched(&p, &Transport::Docker, &image);
        order.push(name.clone());
        if name.is_empty() {
            break;
        }
        scopes.retain(|s| *s != name);
    }
    assert_eq!(
        order,
        vec![
            "a.b.example.com:5000/ns/repo:tag",
            "a.b.example.com:5000/ns/repo",
            "a.b.example.com:5000/ns",
            "a.b.example.com:5000",
            "*.b.example.com",
            "*.example.com",
            "*.com",
            "",
        ]
    );
}

#[test]
fn global_default_when_nothing_matches() {
    let p = policy("docker", &["quay.io"]);
    let image = ImageName::docker("busybox").unwrap();
    let (name, scope) = matched(&p, &Transport::Docker, &image);
    assert_eq!(name, "default");
    assert_eq!(scope, ScopeMatch::Default);
    assert_eq!(scope.to_string(), "default");
    // Another transport's scopes never apply.
    let (name, _) = matched(
        &p,
        &Transport::Atomic,
        &ImageName::docker("quay.io/a/b:c").unwrap(),
    );
    assert_eq!(name, "default");
}

#[rstest]
#[case("busybox", "docker.io/library/busybox:latest")]
#[case("busybox:1", "docker.io/library/busybox:1")]
#[case("index.docker.io/library/busybox", "docker.io/library/busybox:latest")]
#[case(&format!("busybox@{D}"), &format!("docker.io/library/busybox@{D}"))]
fn docker_hub_identity_is_expanded(#[case] input: &str, #[case] identity: &str) {
    let image = ImageName::docker(input).unwrap();
    assert_eq!(image.policy_identity(), identity);
    // Namespaces: repository, "docker.io/library", "docker.io", "*.io".
    assert_eq!(
        image.policy_namespaces(&Transport::Docker),
        vec![
            "docker.io/library/busybox",
            "docker.io/library",
            "docker.io",
            "*.io"
        ]
    );
    // Short-name scopes never match.
    let p = policy(
        "docker",
        &["busybox", "library/busybox", "docker.io/library"],
    );
    assert_eq!(
        matched(&p, &Transport::Docker, &image).0,
        "docker.io/library"
    );
}

#[test]
fn tag_and_digest_together_refused() {
    assert!(ImageName::docker(&format!("busybox:1@{D}")).is_err());
}

#[test]
fn digest_identity_scope() {
    let image = ImageName::docker(&format!("quay.io/a/b@{D}")).unwrap();
    let p = policy("docker", &[&format!("quay.io/a/b@{D}"), "quay.io/a/b"]);
    assert_eq!(
        matched(&p, &Transport::Docker, &image).0,
        format!("quay.io/a/b@{D}")
    );
}

#[test]
fn ip_and_localhost_wildcards() {
    let image = ImageName::docker("127.0.0.1:5055/lab/hello:v1").unwrap();
    assert_eq!(
        image.policy_namespaces(&Transport::Docker),
        vec![
            "127.0.0.1:5055/lab/hello",
            "127.0.0.1:5055/lab",
            "127.0.0.1:5055",
            "*.0.0.1",
            "*.0.1",
            "*.1"
        ]
    );
    let image = ImageName::docker("localhost:5000/x").unwrap();
    assert_eq!(
        image.policy_namespaces(&Transport::Docker),
        vec!["localhost:5000/x", "localhost:5000"]
    );
}

#[rstest]
#[case(Transport::Oci, &["/srv/layouts/app", "/srv/layouts", "/srv"], "/srv/layouts/app")]
#[case(Transport::Oci, &["/srv/layouts", "/srv"], "/srv/layouts")]
#[case(Transport::Oci, &["/srv"], "/srv")]
#[case(Transport::Oci, &["/srv/layouts/ap"], "")]
#[case(Transport::OciArchive, &["/srv/layouts"], "/srv/layouts")]
#[case(Transport::Dir, &["/srv/layouts/app", "/srv"], "/srv/layouts/app")]
#[case(Transport::Dir, &["/srv/layouts"], "/srv/layouts")]
#[case(Transport::Dir, &["/srv"], "/srv")]
#[case(Transport::Sif, &["/srv"], "/srv")]
fn path_scopes(#[case] transport: Transport, #[case] scopes: &[&str], #[case] expected: &str) {
    let mut all = scopes.to_vec();
    all.push("");
    let p = policy(transport.name(), &all);
    let image = ImageName::Path("/srv/layouts/app".into());
    assert_eq!(matched(&p, &transport, &image).0, expected);
}

#[test]
fn path_namespaces() {
    let image = ImageName::Path("/srv/layouts/app".into());
    assert_eq!(
        image.policy_namespaces(&Transport::Oci),
        vec!["/srv/layouts/app", "/srv/layouts", "/srv"]
    );
    assert_eq!(
        image.policy_namespaces(&Transport::Dir),
        vec!["/srv/layouts", "/srv"]
    );
    assert_eq!(image.display_name(&Transport::Oci), "oci:/srv/layouts/app");
}

#[test]
fn custom_image_names() {
    let p = policy("docker-daemon", &["", "docker.io/library/busybox"]);
    let by_id = ImageName::Custom {
        identity: String::new(),
        namespaces: vec![],
        docker_reference: None,
        display: "docker-daemon:sha256:…".into(),
    };
    assert_eq!(matched(&p, &Transport::DockerDaemon, &by_id).0, "");
    let by_name = ImageName::docker("busybox").unwrap();
    assert_eq!(
        matched(&p, &Transport::DockerDaemon, &by_name).0,
        "docker.io/library/busybox"
    );
    assert_eq!(
        by_name.display_name(&Transport::DockerDaemon),
        "docker-daemon:busybox:latest"
    );
    assert_eq!(
        by_name.display_name(&Transport::Docker),
        "docker://busybox:latest"
    );
}

// --- signedIdentity matching ------------------------------------------------------------------

fn img(s: &str) -> ImageName {
    ImageName::docker(s).unwrap()
}

fn exact_ref(r: &str) -> SignedIdentity {
    SignedIdentity::ExactReference {
        docker_reference: r.into(),
    }
}
fn exact_repo(r: &str) -> SignedIdentity {
    SignedIdentity::ExactRepository {
        docker_repository: r.into(),
    }
}
fn remap(p: &str, s: &str) -> SignedIdentity {
    SignedIdentity::RemapIdentity {
        prefix: p.into(),
        signed_prefix: s.into(),
    }
}

#[rstest]
// matchExact
#[case(
    SignedIdentity::MatchExact,
    "busybox:latest",
    "docker.io/library/busybox:latest",
    true
)]
#[case(SignedIdentity::MatchExact, "busybox:latest", "busybox:latest", true)]
#[case(
    SignedIdentity::MatchExact,
    "busybox:latest",
    "index.docker.io/library/busybox:latest",
    true
)]
#[case(SignedIdentity::MatchExact, "busybox:latest", "busybox", false)]
#[case(SignedIdentity::MatchExact, "busybox:latest", "busybox:other", false)]
#[case(SignedIdentity::MatchExact, &format!("busybox@{D}"), "busybox:latest", false)]
#[case(SignedIdentity::MatchExact, &format!("busybox@{D}"), &format!("busybox@{D}"), true)]
#[case(SignedIdentity::MatchExact, "busybox:latest", "in valid", false)]
// matchRepoDigestOrExact
#[case(
    SignedIdentity::MatchRepoDigestOrExact,
    "busybox:latest",
    "docker.io/library/busybox:latest",
    true
)]
#[case(
    SignedIdentity::MatchRepoDigestOrExact,
    "busybox:latest",
    "busybox:v2",
    false
)]
#[case(
    SignedIdentity::MatchRepoDigestOrExact,
    "busybox:latest",
    "busybox",
    false
)]
#[case(SignedIdentity::MatchRepoDigestOrExact, &format!("busybox@{D}"), "busybox:anything", true)]
#[case(SignedIdentity::MatchRepoDigestOrExact, &format!("busybox@{D}"), &format!("busybox@{D2}"), true)]
#[case(SignedIdentity::MatchRepoDigestOrExact, &format!("busybox@{D}"), "busybox", false)]
#[case(SignedIdentity::MatchRepoDigestOrExact, &format!("busybox@{D}"), "other:latest", false)]
#[case(
    SignedIdentity::MatchRepoDigestOrExact,
    "127.0.0.1:5055/lab/hello:v1",
    "127.0.0.1:5055/lab/hello:v1",
    true
)]
#[case(
    SignedIdentity::MatchRepoDigestOrExact,
    "127.0.0.1:5055/lab/hello:v1",
    "127.0.0.1:5055/lab/hello",
    false
)]
// matchRepository (cosign writes the repository only)
#[case(SignedIdentity::MatchRepository, "quay.io/a/b:v1", "quay.io/a/b", true)]
#[case(
    SignedIdentity::MatchRepository,
    "quay.io/a/b:v1",
    "quay.io/a/b:v2",
    true
)]
#[case(SignedIdentity::MatchRepository, &format!("quay.io/a/b@{D}"), "quay.io/a/b", true)]
#[case(
    SignedIdentity::MatchRepository,
    "quay.io/a/b:v1",
    "quay.io/a/c",
    false
)]
#[case(
    SignedIdentity::MatchRepository,
    "busybox:v1",
    "docker.io/library/busybox",
    true
)]
#[case(
    SignedIdentity::MatchRepository,
    "busybox:v1",
    "index.docker.io/library/busybox",
    true
)]
#[case(
    SignedIdentity::MatchRepository,
    "foo/bar:v1",
    "docker.io/library/foo/bar",
    false
)]
// exactReference: independent of the image
#[case(exact_ref("quay.io/a/b:v1"), "example.com/x:y", "quay.io/a/b:v1", true)]
#[case(
    exact_ref("busybox:v1"),
    "example.com/x:y",
    "docker.io/library/busybox:v1",
    true
)]
#[case(exact_ref("quay.io/a/b:v1"), "quay.io/a/b:v1", "quay.io/a/b:v2", false)]
#[case(exact_ref("quay.io/a/b:v1"), "quay.io/a/b:v1", "quay.io/a/b", false)]
// exactRepository
#[case(
    exact_repo("quay.io/a/b"),
    "example.com/x:y",
    "quay.io/a/b:anything",
    true
)]
#[case(exact_repo("quay.io/a/b"), "example.com/x:y", "quay.io/a/b", true)]
#[case(
    exact_repo("busybox"),
    "example.com/x:y",
    "docker.io/library/busybox:1",
    true
)]
#[case(exact_repo("quay.io/a/b"), "quay.io/a/b:v1", "quay.io/a/bb", false)]
// remapIdentity: the image's name is rewritten, then matchRepoDigestOrExact
#[case(
    remap("mirror.local", "quay.io"),
    "mirror.local/a/b:v1",
    "quay.io/a/b:v1",
    true
)]
#[case(
    remap("mirror.local", "quay.io"),
    "mirror.local/a/b:v1",
    "mirror.local/a/b:v1",
    false
)]
#[case(
    remap("mirror.local/a", "quay.io/x"),
    "mirror.local/a/b:v1",
    "quay.io/x/b:v1",
    true
)]
#[case(
    remap("mirror.local/a", "quay.io/x"),
    "mirror.local/ab:v1",
    "mirror.local/ab:v1",
    true
)]
#[case(
    remap("mirror.local/a", "quay.io/x"),
    "mirror.local/ab:v1",
    "quay.io/xb:v1",
    false
)]
#[case(remap("mirror.local", "quay.io"), &format!("mirror.local/a/b@{D}"), "quay.io/a/b:v9", true)]
#[case(
    remap("mirror.local:5000", "docker.io"),
    "mirror.local:5000/library/busybox:1",
    "busybox:1",
    true
)]
#[case(
    remap("mirror.local:5000", "docker.io"),
    "mirror.local:5000/busybox:1",
    "busybox:1",
    false
)]
#[case(
    remap("mirror.local", "quay.io"),
    "other.local/a/b:v1",
    "other.local/a/b:v1",
    true
)]
fn identity_matching(
    #[case] identity: SignedIdentity,
    #[case] image: &str,
    #[case] signed: &str,
    #[case] expected: bool,
) {
    let result = identity.matches(&img(image), signed);
    assert_eq!(
        result.is_ok(),
        expected,
        "{identity:?} {image} {signed}: {result:?}"
    );
}

#[test]
fn path_images_have_no_docker_identity() {
    let image = ImageName::Path("/srv/layout".into());
    for id in [
        SignedIdentity::MatchExact,
        SignedIdentity::MatchRepoDigestOrExact,
        SignedIdentity::MatchRepository,
        remap("a.b", "c.d"),
    ] {
        assert!(id.matches(&image, "quay.io/a/b:v1").is_err());
    }
    assert!(
        exact_ref("quay.io/a/b:v1")
            .matches(&image, "quay.io/a/b:v1")
            .is_ok()
    );
    assert!(
        exact_repo("quay.io/a/b")
            .matches(&image, "quay.io/a/b:v1")
            .is_ok()
    );
}

#[test]
fn docker_reference_round_trip() {
    let r: DockerReference = "busybox".parse().unwrap();
    assert_eq!(r.to_string(), "docker.io/library/busybox");
    assert!(r.is_name_only());
}

//! An in-process `signet server` on a loopback port with a real store (SQLite in a temp
//! dir, or a fresh PostgreSQL database) and the software key store, plus an HTTP client that
//! speaks as one user.
#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use signet_server::app::Shared;
use signet_server::cli::RunArgs;
use signet_server::config::Config;

pub const ORG: &str = "acme";

/// A running service.
pub struct Service {
    pub url: String,
    pub data: std::sync::Arc<tempfile::TempDir>,
    pub app: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    database_url: Option<String>,
    env: Vec<(String, String)>,
}

async fn launch(
    data: &std::path::Path,
    database_url: Option<&str>,
    env: &[(String, String)],
) -> (
    String,
    Shared,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let args = RunArgs {
        config: None,
        data_dir: Some(data.to_path_buf()),
        listen: Some("127.0.0.1:0".to_owned()),
    };
    let mut vars: Vec<(String, String)> = env.to_vec();
    if let Some(url) = database_url {
        vars.push(("SIGNET_DATABASE_URL".to_owned(), url.to_owned()));
    }
    let config = Config::load(&args, |k| {
        vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    let app = signet_server::serve::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let served = app.clone();
    let task = tokio::spawn(async move {
        signet_server::serve::run(listener, served, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (url, app, tx, task)
}

impl Service {
    /// SQLite in a temp dir.
    pub async fn start() -> Service {
        Self::start_with(None, &[]).await
    }

    /// With a database URL and extra SIGNET_* variables.
    pub async fn start_with(database_url: Option<String>, env: &[(&str, &str)]) -> Service {
        let data = std::sync::Arc::new(tempfile::tempdir().unwrap());
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (url, app, stop, task) = launch(data.path(), database_url.as_deref(), &env).await;
        Service {
            url,
            data,
            app,
            stop: Some(stop),
            task,
            database_url,
            env,
        }
    }

    /// A second replica: the same data directory (keys) and database.
    pub async fn replica(&self) -> Service {
        let (url, app, stop, task) =
            launch(self.data.path(), self.database_url.as_deref(), &self.env).await;
        Service {
            url,
            data: self.data.clone(),
            app,
            stop: Some(stop),
            task,
            database_url: self.database_url.clone(),
            env: self.env.clone(),
        }
    }

    /// Stops and starts again on the same data (a restart).
    pub async fn restart(mut self) -> Service {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        let (url, app, stop, task) =
            launch(self.data.path(), self.database_url.as_deref(), &self.env).await;
        self.url = url;
        self.app = app;
        self.stop = Some(stop);
        self.task = task;
        self
    }

    /// A token of the local issuer.
    pub fn token(&self, org: &str, user: &str, groups: &[&str]) -> String {
        let issuer = signet_auth::LocalIssuer::open_or_create(self.data.path()).unwrap();
        let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        issuer
            .issue(
                org,
                user,
                &groups,
                Duration::from_secs(3600),
                SystemTime::now(),
            )
            .unwrap()
    }

    /// A client of `ORG` as `user`.
    pub fn as_user(&self, user: &str, groups: &[&str]) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: format!("{}/{ORG}/api/v1", self.url),
            token: Some(self.token(ORG, user, groups)),
        }
    }

    /// A client without a token.
    pub fn anonymous(&self) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: format!("{}/{ORG}/api/v1", self.url),
            token: None,
        }
    }

    /// The standard cast.
    pub fn admin(&self) -> Client {
        self.as_user("ada", &["admins"])
    }
    pub fn product_approver(&self) -> Client {
        self.as_user("pat", &["product-approvers"])
    }
    pub fn requester(&self) -> Client {
        self.as_user("wes", &["writers"])
    }
    pub fn approver(&self) -> Client {
        self.as_user("rae", &["approvers"])
    }
    pub fn second_approver(&self) -> Client {
        self.as_user("ray", &["approvers"])
    }
    pub fn fast_requester(&self) -> Client {
        self.as_user("fay", &["writers", "fast"])
    }
    pub fn blanket_only(&self) -> Client {
        self.as_user("bob", &["fast"])
    }
    pub fn outsider(&self) -> Client {
        self.as_user("oz", &["marketing"])
    }

    /// Creates and approves the seed's product; returns (product id, operation id).
    pub async fn approved_product(&self, name: &str, key_type: &str) -> (String, String) {
        self.approved_product_json(seed_product(name, key_type))
            .await
    }

    pub async fn approved_product_json(&self, product: Value) -> (String, String) {
        let (status, created) = self.admin().post("/products", &product).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let op = created["productOperations"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, body) = self
            .product_approver()
            .post(
                "/products/approvals",
                &json!({"requestId": id, "decision": "APPROVE"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        (id, op)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The seed's DigestSigning product: writers request, approvers approve, `fast` skips
/// approval.
pub fn seed_product(name: &str, key_type: &str) -> Value {
    json!({
        "name": name,
        "description": "Product for OCI container signing",
        "productType": "Production",
        "enabled": true,
        "caInfo": [],
        "rndKeys": [],
        "productOperations": [{
            "name": "OCI digest signing",
            "description": "key for OCI container signing",
            "operationType": "DigestSigning",
            "token": {"name": "OCI signing key", "description": "HSM token", "keyType": key_type},
            "approvalRule": {
                "name": "Rule for access",
                "description": "Rule for OCI signing",
                "allowedGroups": ["writers"],
                "approvalGroups": ["approvers"],
                "blanketGroups": ["fast"]
            }
        }]
    })
}

/// A base64 SHA-256 digest of `data`.
pub fn digest_b64(data: &[u8]) -> String {
    use base64::Engine as _;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    base64::engine::general_purpose::STANDARD.encode(d.as_ref())
}

/// A signing request body for `data`'s digest.
pub fn signing_body(product: &str, op: &str, data: &[u8]) -> Value {
    json!({
        "name": "OCI signing request",
        "description": "Container image signing",
        "productId": product,
        "idProductOperation": op,
        "digest": digest_b64(data),
        "hashAlgorithm": "SHA256"
    })
}

/// An HTTP client speaking as one user.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    /// Any call; returns the status and the body as JSON (or a JSON string of the text).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let (status, bytes) = self.call_raw(method, path, body).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.bytes().await.unwrap().to_vec())
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(serde_json::to_vec(body).unwrap()))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(serde_json::to_vec(body).unwrap()))
            .await
    }

    /// Creates a signing request; returns the response.
    pub async fn request_signature(
        &self,
        product: &str,
        op: &str,
        data: &[u8],
    ) -> (StatusCode, Value) {
        self.post("/imagesignings", &signing_body(product, op, data))
            .await
    }

    /// Approves (or rejects) a request.
    pub async fn decide(&self, id: &str, decision: &str, reason: &str) -> (StatusCode, Value) {
        self.post(
            "/imagesignings/approvals",
            &json!({"requestId": id, "decision": decision, "reason": reason}),
        )
        .await
    }
}

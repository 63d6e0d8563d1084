//! `--output table`: aligned columns for people. State numbers are shown by name; a list
//! envelope becomes its items (plus a count line), a single object one row.

use serde_json::Value;

use super::state;

/// What the rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Products.
    Product,
    /// Product requests (pending product approvals).
    ProductRequest,
    /// Image-signing requests.
    ImageSigning,
    /// Certificate profiles.
    Profile,
    /// The organisation's internal CA (`pki ca init`).
    InternalCa,
    /// A product's certificate (`caInfo` entry).
    CaEntry,
    /// Registered clients.
    Client,
}

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Product => &["ID", "NAME", "STATE", "ENABLED", "OPERATIONS"],
        Kind::ProductRequest => &[
            "ID",
            "PRODUCT",
            "CHANGES",
            "REQUESTED BY",
            "STATE",
            "CREATED",
        ],
        Kind::ImageSigning => &[
            "ID",
            "NAME",
            "STATE",
            "PRODUCT",
            "OPERATION",
            "REQUESTER",
            "CREATED",
        ],
        Kind::Profile => &["ID", "NAME", "TYPE", "STATE"],
        Kind::InternalCa => &["SUBJECT", "CERTIFICATES"],
        Kind::CaEntry => &[
            "ID",
            "CN",
            "TYPE",
            "KEY",
            "PROFILE",
            "EXTERNAL",
            "STATE",
            "CERTIFICATE",
        ],
        Kind::Client => &["ID", "NAME", "PRODUCT", "TYPE", "USER", "STATE"],
    }
}

fn row(kind: Kind, v: &Value) -> Vec<String> {
    let st = state::name_of(v.get("state").unwrap_or(&Value::Null));
    match kind {
        Kind::Product => {
            let ops = v
                .get("productOperations")
                .and_then(Value::as_array)
                .map(|ops| {
                    ops.iter()
                        .map(|o| {
                            let (name, id) = (s(o, "name"), s(o, "id"));
                            if id.is_empty() {
                                name
                            } else {
                                format!("{name} ({id})")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            vec![s(v, "id"), s(v, "name"), st, s(v, "enabled"), ops]
        }
        Kind::ProductRequest => {
            let product = v
                .get("product")
                .map(|p| s(p, "name"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| s(v, "productId"));
            let changes = v
                .get("changes")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            vec![
                s(v, "id"),
                product,
                changes,
                s(v, "requestedBy"),
                st,
                s(v, "createdAt"),
            ]
        }
        Kind::ImageSigning => {
            let pick = |a: &str, b: &str| {
                let x = s(v, a);
                if x.is_empty() { s(v, b) } else { x }
            };
            vec![
                s(v, "id"),
                s(v, "name"),
                st,
                pick("productName", "idProduct"),
                pick("operationName", "idProductOperation"),
                s(v, "requester"),
                s(v, "creationTime"),
            ]
        }
        Kind::Profile => {
            // A list item as served, or the parsed profile that create and get print.
            let name = Some(s(v, "profileName"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| s(v, "name"));
            let ty = match v.get("profileType") {
                Some(t) => super::pki::profile_type_name(t),
                None => s(v, "certificateType"),
            };
            vec![s(v, "id"), name, ty, st]
        }
        Kind::InternalCa => {
            let certs = v
                .get("chain")
                .and_then(Value::as_str)
                .map(|c| c.matches("-----BEGIN CERTIFICATE-----").count())
                .unwrap_or(0);
            vec![s(v, "subject"), certs.to_string()]
        }
        Kind::CaEntry => {
            let cn = Some(s(v, "cn"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| s(v, "CN"));
            let cert = if v
                .get("certificate")
                .and_then(Value::as_str)
                .is_some_and(|c| !c.trim().is_empty())
            {
                "issued"
            } else if v
                .get("csr")
                .and_then(Value::as_str)
                .is_some_and(|c| !c.trim().is_empty())
            {
                "CSR waiting"
            } else {
                ""
            };
            vec![
                s(v, "id"),
                cn,
                s(v, "certificateType"),
                s(v, "keyType"),
                s(v, "profileID"),
                s(v, "externalRoot"),
                st,
                cert.to_string(),
            ]
        }
        Kind::Client => vec![
            s(v, "id"),
            s(v, "name"),
            s(v, "idProduct"),
            s(v, "clientType"),
            s(v, "clientUser"),
            st,
        ],
    }
}

/// Renders a list envelope or a single object of `kind` as an aligned table.
pub fn render(kind: Kind, v: &Value) -> String {
    let (items, footer) = match v.get("items").and_then(Value::as_array) {
        Some(items) => {
            let count = v
                .get("count")
                .and_then(Value::as_u64)
                .unwrap_or(items.len() as u64);
            let pages = v.get("pages").and_then(Value::as_u64).unwrap_or(1);
            let footer = if pages > 1 {
                format!(
                    "{} of {count} shown ({pages} pages, see --page)",
                    items.len()
                )
            } else {
                format!("{count} total")
            };
            (items.iter().collect::<Vec<_>>(), Some(footer))
        }
        None => (vec![v], None),
    };
    let header: Vec<String> = columns(kind).iter().map(|c| (*c).to_string()).collect();
    let mut rows = vec![header];
    rows.extend(items.into_iter().map(|i| row(kind, i)));
    let mut out = align(&rows);
    if let Some(f) = footer {
        out.push_str(&f);
        out.push('\n');
    }
    out
}

/// Aligns rows into columns two spaces apart; the last column is not padded.
pub fn align(rows: &[Vec<String>]) -> String {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; ncols];
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let clean: String = cell
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            line.push_str(&clean);
            if i + 1 < r.len() {
                let pad = widths[i] - clean.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_signings_table() {
        let env = json!({"count": 2, "pages": 1, "next": "", "prev": "", "items": [
            {"id": "req-1", "name": "OCI signing request", "state": 2, "productName": "prod",
             "operationName": "OCI digest signing", "requester": "alice", "creationTime": "2026-01-01T00:00:00Z"},
            {"id": "req-22", "name": "n", "state": 16, "idProduct": "p-9",
             "idProductOperation": "op-1", "requester": "bob", "creationTime": "2026-01-02T00:00:00Z"},
        ]});
        let t = render(Kind::ImageSigning, &env);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(
            lines[0].starts_with("ID      NAME                 STATE"),
            "{t}"
        );
        assert!(lines[1].contains("ApprovalRequired"), "{t}");
        assert!(
            lines[2].contains("Ready") && lines[2].contains("p-9") && lines[2].contains("op-1"),
            "{t}"
        );
        // columns line up: STATE starts at the same offset in every row
        let at = lines[0].find("STATE").unwrap();
        assert_eq!(&lines[1][at..at + 16], "ApprovalRequired");
        assert_eq!(&lines[2][at..at + 5], "Ready");
        assert_eq!(lines[3], "2 total");
    }

    #[test]
    fn product_table_single() {
        let p = json!({"id": "p1", "name": "prod", "state": 4, "enabled": true,
            "productOperations": [{"id": "o1", "name": "sign"}, {"id": "o2", "name": "other"}]});
        let t = render(Kind::Product, &p);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "ID  NAME  STATE     ENABLED  OPERATIONS");
        assert_eq!(
            lines[1],
            "p1  prod  Approved  true     sign (o1), other (o2)"
        );
    }

    #[test]
    fn pki_and_client_tables() {
        let t = render(
            Kind::Profile,
            &json!({"count": 1, "pages": 1, "items": [
                {"id": "pr1", "profileName": "codesign", "profileType": 1, "state": 16}]}),
        );
        assert_eq!(t.lines().nth(1), Some("pr1  codesign  END   Ready"), "{t}");
        let t = render(
            Kind::Profile,
            &json!({"id": "pr2", "name": "root", "certificateType": "ROOT"}),
        );
        assert_eq!(t.lines().nth(1), Some("pr2  root  ROOT"), "{t}");
        let t = render(
            Kind::CaEntry,
            &json!({"id": "c1", "cn": "Code Signing", "certificateType": "ENDENTITY",
                "keyType": "EC256", "profileID": "pr1", "externalRoot": true, "state": 16,
                "certificate": "-----BEGIN CERTIFICATE-----"}),
        );
        assert!(
            t.lines()
                .nth(1)
                .is_some_and(|l| l.ends_with("true      Ready  issued")),
            "{t}"
        );
        let t = render(
            Kind::Client,
            &json!({"items": [{"id": "k1", "name": "line-3", "idProduct": "p1",
                "clientType": "ProductionPC", "state": 256}], "count": 1, "pages": 1}),
        );
        assert!(t.contains("ProductionPC") && t.contains("NotActive"), "{t}");
        let t = render(
            Kind::InternalCa,
            &json!({"subject": "CN=Org CA", "chain": "-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----"}),
        );
        assert_eq!(t.lines().nth(1), Some("CN=Org CA  2"), "{t}");
    }

    #[test]
    fn product_request_table_and_control_chars() {
        let r = json!({"items": [{"id": "r1", "productId": "p1", "changes": ["NewProduct"],
            "product": {"name": "evil\nname"}, "requestedBy": "admin", "state": 2, "createdAt": "t"}],
            "count": 1, "pages": 1});
        let t = render(Kind::ProductRequest, &r);
        assert!(t.contains("evil name"), "{t}");
        assert!(
            t.contains("NewProduct") && t.contains("ApprovalRequired"),
            "{t}"
        );
    }
}

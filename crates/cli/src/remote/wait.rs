//! Waiting for a signing request to leave its pending states: polls
//! `GET /imagesignings/{id}` with a spinner on stderr (plain lines when stderr is not a
//! terminal) until Ready, Rejected or Failed, or until the deadline.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::client::{Client, enc};
use super::state;

/// How a wait ended.
#[derive(Debug)]
pub enum Outcome {
    /// The request is Ready (the last GET's answer).
    Ready(Value),
    /// The request ended Rejected or Failed (the last GET's answer).
    Finished(Value),
    /// The deadline passed; the last answer.
    TimedOut(Value),
}

/// Progress on stderr: a spinner on a terminal, else one line per state change (or nothing,
/// see [`Progress::hidden`]).
pub struct Progress {
    bar: Option<ProgressBar>,
    last: Option<String>,
    hidden: bool,
}

impl Progress {
    /// A spinner if stderr is a terminal.
    pub fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            last: None,
            hidden: false,
        }
    }

    /// Shows nothing (for callers with their own output, such as the notation plugin).
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            last: None,
            hidden: true,
        }
    }

    /// Shows a status line (printed once per change without a terminal).
    pub fn show(&mut self, msg: String) {
        if self.hidden {
            return;
        }
        match &self.bar {
            Some(bar) => bar.set_message(msg.clone()),
            None => {
                if self.last.as_deref() != Some(msg.as_str()) {
                    eprintln!("{msg}");
                }
            }
        }
        self.last = Some(msg);
    }

    /// Removes the spinner.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The state number of an ImageSigning.
pub fn state_of(v: &Value) -> Option<u64> {
    v.get("state").and_then(Value::as_u64)
}

/// What a pending state means, for the status line.
fn describe(v: &Value) -> String {
    let st = v.get("state").map(state::name_of).unwrap_or_default();
    match state_of(v) {
        Some(2) => {
            let need = v.get("requiredApprovals").and_then(Value::as_u64);
            let have = v
                .get("approvals")
                .and_then(Value::as_array)
                .map(|a| a.len())
                .unwrap_or(0);
            match need {
                Some(n) if n > 1 => format!("{st} ({have} of {n} approvals)"),
                _ => st,
            }
        }
        _ => st,
    }
}

/// Polls request `id` until it is Ready, Rejected or Failed, or `deadline` passes.
/// `first` is an answer already in hand (from the POST), checked before any GET.
pub async fn until_done(
    client: &Client,
    id: &str,
    first: Option<Value>,
    deadline: Instant,
    progress: &mut Progress,
) -> Result<Outcome> {
    let path = format!("/imagesignings/{}", enc(id));
    let mut interval = Duration::from_millis(500);
    let mut current = match first {
        Some(v) => v,
        None => client.get(&path).await?,
    };
    loop {
        match state_of(&current) {
            Some(state::READY) => return Ok(Outcome::Ready(current)),
            Some(state::REJECTED | state::FAILED) => return Ok(Outcome::Finished(current)),
            _ => {}
        }
        progress.show(format!("request {id}: {}", describe(&current)));
        let now = Instant::now();
        if now >= deadline {
            return Ok(Outcome::TimedOut(current));
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        interval = (interval * 3 / 2).min(Duration::from_secs(3));
        current = client.get(&path).await?;
    }
}

/// Why a finished request did not produce a signature, in one sentence.
pub fn failure_reason(v: &Value) -> String {
    let id = v.get("id").and_then(Value::as_str).unwrap_or("?");
    match state_of(v) {
        Some(state::REJECTED) => {
            let rejection = v
                .get("approvals")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter().rev().find(|d| {
                        d.get("decision")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.to_ascii_uppercase().starts_with("REJECT"))
                    })
                })
                .map(|d| {
                    let who = d.get("approver").and_then(Value::as_str).unwrap_or("?");
                    let why = d.get("reason").and_then(Value::as_str).unwrap_or("");
                    if why.is_empty() {
                        format!(" by {who}")
                    } else {
                        format!(" by {who}: {why}")
                    }
                })
                .unwrap_or_default();
            format!("signing request {id} was rejected{rejection}")
        }
        Some(state::FAILED) => {
            let status = v.get("errorStatus").and_then(Value::as_str).unwrap_or("");
            let detail = v.get("errorDetail").and_then(Value::as_str).unwrap_or("");
            let what = match (status.is_empty(), detail.is_empty()) {
                (true, true) => String::new(),
                (false, true) => format!(": {status}"),
                (true, false) => format!(": {detail}"),
                (false, false) => format!(": {status}: {detail}"),
            };
            format!("signing request {id} failed{what}")
        }
        _ => format!(
            "signing request {id} is {}",
            v.get("state").map(state::name_of).unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reasons() {
        let r = json!({"id": "r1", "state": 32, "approvals": [
            {"approver": "bob", "decision": "REJECT", "reason": "not a release build"}]});
        assert_eq!(
            failure_reason(&r),
            "signing request r1 was rejected by bob: not a release build"
        );
        let f = json!({"id": "r2", "state": 64, "errorStatus": "expired", "errorDetail": "not decided within 7 days"});
        assert_eq!(
            failure_reason(&f),
            "signing request r2 failed: expired: not decided within 7 days"
        );
        assert_eq!(
            describe(&json!({"state": 2, "requiredApprovals": 2, "approvals": [{}]})),
            "ApprovalRequired (1 of 2 approvals)"
        );
    }
}

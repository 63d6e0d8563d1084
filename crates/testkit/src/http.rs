//! Minimal HTTP/1.1 pieces shared by the in-process servers: a request reader and a
//! response writer for [`crate::TokenServer`], an incremental request counter for
//! [`crate::CountingProxy`], and URL/query helpers.

use std::io::{self, Read, Write};

/// Upper bound on a request head; the in-process servers only serve tiny requests.
const MAX_HEAD: usize = 64 * 1024;

/// One parsed HTTP request (server side).
#[derive(Debug)]
pub(crate) struct Request {
    pub method: String,
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Path part of the target.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Decoded query parameters, in order (repeated names kept).
    pub fn query(&self) -> Vec<(String, String)> {
        match self.target.split_once('?') {
            Some((_, q)) => parse_form(q),
            None => Vec::new(),
        }
    }
}

/// Reads one request (head and `Content-Length` body) from `stream`.
pub(crate) fn read_request(stream: &mut impl Read) -> io::Result<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body cut short",
            ));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Writes a complete `Connection: close` response.
pub(crate) fn write_response(
    stream: &mut impl Write,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(out.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses `a=b&c=d` (form / query encoding) with percent- and `+`-decoding.
pub(crate) fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+` (as space).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Parses the parameters of a `WWW-Authenticate` challenge such as
/// `Bearer realm="http://…",service="x",scope="repository:a:pull"`.
/// Returns the scheme (lower-cased) and the parameters.
pub(crate) fn parse_challenge(value: &str) -> (String, Vec<(String, String)>) {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            break;
        };
        let name = name
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (val, remaining) = if let Some(q) = after.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => val.push(c),
                }
            }
            (val, &q[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.push((name, val));
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_ascii_lowercase(), params)
}

/// Incremental parser over the client-to-server byte stream of one HTTP/1.x
/// connection. It sees every byte exactly once (as forwarded) and records each
/// request line, skipping bodies by `Content-Length` or chunked framing so body
/// bytes can never be mistaken for a request.
#[derive(Debug, Default)]
pub(crate) struct RequestCounter {
    state: State,
    /// Request lines seen and not yet taken.
    pending: Vec<String>,
}

#[derive(Debug)]
enum State {
    /// Accumulating a request head.
    Head(Vec<u8>),
    /// Skipping a fixed-length body.
    Body(u64),
    /// Reading a chunk-size line.
    ChunkSize(Vec<u8>),
    /// Skipping chunk data (then its CRLF: the +2 is included).
    ChunkData(u64),
    /// Reading trailer lines after the last chunk.
    Trailer(Vec<u8>),
    /// Unparseable stream: stop counting.
    Lost,
}

impl Default for State {
    fn default() -> Self {
        State::Head(Vec::new())
    }
}

impl RequestCounter {
    /// Feeds forwarded bytes; returns the request lines completed by them.
    pub fn feed(&mut self, mut data: &[u8]) -> Vec<String> {
        while !data.is_empty() {
            match &mut self.state {
                State::Lost => break,
                State::Head(buf) => {
                    // Consume up to and including the blank line ending the head.
                    let start = buf.len().saturating_sub(3);
                    let take = data.len();
                    buf.extend_from_slice(&data[..take]);
                    match find(&buf[start..], b"\r\n\r\n") {
                        Some(rel) => {
                            let end = start + rel + 4;
                            let consumed = take - (buf.len() - end);
                            buf.truncate(end);
                            let head = std::mem::take(buf);
                            data = &data[consumed..];
                            self.finish_head(&head);
                        }
                        None => {
                            // Tolerate leading CRLFs between requests (RFC 9112 §2.2).
                            while buf.starts_with(b"\r\n") {
                                buf.drain(..2);
                            }
                            if buf.len() > MAX_HEAD {
                                self.state = State::Lost;
                            }
                            data = &[];
                        }
                    }
                }
                State::Body(rem) => {
                    let n = (*rem).min(data.len() as u64);
                    *rem -= n;
                    data = &data[n as usize..];
                    if *rem == 0 {
                        self.state = State::default();
                    }
                }
                State::ChunkData(rem) => {
                    let n = (*rem).min(data.len() as u64);
                    *rem -= n;
                    data = &data[n as usize..];
                    if *rem == 0 {
                        self.state = State::ChunkSize(Vec::new());
                    }
                }
                State::ChunkSize(line) | State::Trailer(line) => {
                    let nl = data.iter().position(|&b| b == b'\n');
                    let n = nl.map_or(data.len(), |p| p + 1);
                    line.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    if nl.is_none() {
                        if line.len() > MAX_HEAD {
                            self.state = State::Lost;
                        }
                        continue;
                    }
                    let text = String::from_utf8_lossy(line).trim().to_string();
                    let in_trailer = matches!(self.state, State::Trailer(_));
                    if in_trailer {
                        self.state = if text.is_empty() {
                            State::default()
                        } else {
                            State::Trailer(Vec::new())
                        };
                    } else {
                        let size = text.split(';').next().unwrap_or("").trim();
                        self.state = match u64::from_str_radix(size, 16) {
                            Ok(0) => State::Trailer(Vec::new()),
                            Ok(n) => State::ChunkData(n + 2),
                            Err(_) => State::Lost,
                        };
                    }
                }
            }
        }
        std::mem::take(&mut self.pending)
    }

    fn finish_head(&mut self, head: &[u8]) {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n").skip_while(|l| l.is_empty());
        let request_line = lines.next().unwrap_or("").to_string();
        let mut content_length = 0u64;
        let mut chunked = false;
        for line in lines {
            if let Some((n, v)) = line.split_once(':') {
                let n = n.trim();
                if n.eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                } else if n.eq_ignore_ascii_case("transfer-encoding")
                    && v.to_ascii_lowercase().contains("chunked")
                {
                    chunked = true;
                }
            }
        }
        if !request_line.is_empty() {
            self.pending.push(request_line);
        }
        self.state = if chunked {
            State::ChunkSize(Vec::new())
        } else if content_length > 0 {
            State::Body(content_length)
        } else {
            State::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_skips_bodies_and_handles_splits() {
        let stream = b"PUT /a HTTP/1.1\r\nContent-Length: 20\r\n\r\nGET /fake HTTP/1.1\r\n\
            POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n\
            \r\nHEAD /c HTTP/1.1\r\nHost: x\r\n\r\n";
        // Feed byte by byte and all at once: same result.
        let mut one = RequestCounter::default();
        let all: Vec<String> = stream
            .iter()
            .flat_map(|b| one.feed(std::slice::from_ref(b)))
            .collect();
        let mut two = RequestCounter::default();
        assert_eq!(all, two.feed(stream));
        assert_eq!(
            all,
            vec!["PUT /a HTTP/1.1", "POST /b HTTP/1.1", "HEAD /c HTTP/1.1"]
        );
    }

    #[test]
    fn challenge_parsing() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(p[0], ("realm".into(), "http://127.0.0.1:1/token".into()));
        assert_eq!(p[1], ("service".into(), "reg".into()));
        assert_eq!(p[2], ("scope".into(), "repository:a/b:pull,push".into()));
        let (s, p) = parse_challenge(r#"Basic realm="x""#);
        assert_eq!(s, "basic");
        assert_eq!(p, vec![("realm".into(), "x".into())]);
    }

    #[test]
    fn percent_round_trip() {
        let s = "repository:a/b:pull,push x";
        assert_eq!(percent_decode(&percent_encode(s)), s);
        assert_eq!(percent_decode("a+b%2Fc%zz"), "a b/c%zz");
    }
}

//! The loopback servers the tests script.
//!
//! [`ScriptedServer`]: an HTTP/1.1 server for behaviour that depends on a sequence of answers
//! (Running, Running, Complete; 429 then 200; 401 then a new token) and on when requests
//! arrive. Every request is recorded with its arrival time; the script decides each reply
//! from the request and how many requests came before it on the same method and path.
//!
//! [`RawServer`]: a server that misbehaves byte by byte (see its section below).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// The raw request target: path and query, still percent-encoded.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// A scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn token(access_token: &str, expires_in: u64) -> Self {
        Self::json(
            200,
            serde_json::json!({"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}),
        )
    }

    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"message": message, "code": code, "status": status, "contextId": "ctx-1"}),
        )
        .header("ININ-Correlation-Id", "corr-1")
    }
}

type Script = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

/// The running server. Dropping it stops accepting connections.
pub struct ScriptedServer {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    pub async fn start(script: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let counts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                stream.set_nodelay(true).unwrap();
                let (script, counts, recorded) = (script.clone(), counts.clone(), recorded.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    while let Some(request) = read_request(&mut reader).await {
                        let index = {
                            let mut counts = counts.lock().unwrap();
                            let n = counts
                                .entry(format!("{} {}", request.method, request.path()))
                                .or_default();
                            *n += 1;
                            *n - 1
                        };
                        recorded.lock().unwrap().push(request.clone());
                        let reply = script(&request, index);
                        tokio::time::sleep(reply.delay).await;
                        let mut head = format!(
                            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
                            reply.status,
                            reply.body.len()
                        );
                        for (k, v) in &reply.headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        if write.write_all(head.as_bytes()).await.is_err()
                            || write.write_all(reply.body.as_bytes()).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            base_url,
            requests,
            task,
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests whose method and path (without query) match.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path() == path)
            .collect()
    }
}

/// Reads one request: request line, headers, and a `Content-Length` body (at most 1 MiB,
/// which is all any test sends). Shared with [`RawServer`].
pub async fn read_request(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let at = Instant::now();
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).await.ok()?;
    Some(Recorded {
        method,
        target,
        headers,
        body,
        at,
    })
}

// ---------------------------------------------------------------------------------------------
// RawServer: a loopback HTTP/1.1 server that can misbehave byte by byte: close before answering, stop
// mid-body, stall, announce or stream 200 MB, send bytes that are not UTF-8. Each connection
// carries one request and is closed after it (`Connection: close`), so every attempt the
// client makes is one recorded request and no connection is reused behind the test's back.
// ---------------------------------------------------------------------------------------------

/// What the server does once it has read a request.
#[derive(Clone, Debug)]
pub enum Act {
    /// Write these bytes (a whole response, however malformed), then close.
    Raw(Vec<u8>),
    /// Close without writing anything.
    Close,
    /// Write `head` (status line and headers, announcing more body than follows) and
    /// `partial`, then close.
    CloseMidBody { head: String, partial: Vec<u8> },
    /// Write `head` and `partial`, then hold the connection open for `hold`, sending nothing.
    Stall {
        head: String,
        partial: Vec<u8>,
        hold: Duration,
    },
    /// Write `head`, then `total` bytes of filler in 64 KiB writes (chunked when `chunked`),
    /// stopping as soon as the client goes away.
    Flood {
        head: String,
        total: u64,
        chunked: bool,
    },
}

impl Act {
    /// A complete response with `Content-Length` and `Connection: close`.
    pub fn respond(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let mut bytes = head(status, headers, Some(body.len() as u64)).into_bytes();
        bytes.extend_from_slice(&body);
        Act::Raw(bytes)
    }

    /// A JSON response.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::respond(
            status,
            &[("Content-Type", "application/json")],
            body.to_string(),
        )
    }

    /// A token response.
    pub fn token(access_token: &str, expires_in: u64) -> Self {
        Self::json(
            200,
            serde_json::json!({"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}),
        )
    }
}

/// A status line and headers, ending with the blank line. `content_length: None` sends none.
pub fn head(status: u16, headers: &[(&str, &str)], content_length: Option<u64>) -> String {
    let mut out = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
    if let Some(length) = content_length {
        out.push_str(&format!("Content-Length: {length}\r\n"));
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out
}

type RawScript = dyn Fn(&Recorded, usize) -> Act + Send + Sync;

/// The running server; dropping it stops it (connections in progress are aborted too).
pub struct RawServer {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    body_bytes_sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Starts a server whose `script` gets each request and its index among all requests.
    pub async fn start(script: impl Fn(&Recorded, usize) -> Act + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let body_bytes_sent = Arc::new(AtomicU64::new(0));
        let script: Arc<RawScript> = Arc::new(script);
        let (recorded, sent) = (requests.clone(), body_bytes_sent.clone());
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (script, recorded, sent) = (script.clone(), recorded.clone(), sent.clone());
                // Owned by the JoinSet, so aborting the server aborts stalled connections.
                connections.spawn(serve(stream, script, recorded, sent));
            }
        });
        Self {
            base_url,
            requests,
            body_bytes_sent,
            task,
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests whose method and path (without query) match.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path() == path)
            .collect()
    }

    /// Filler bytes written by [`Act::Flood`] so far.
    pub fn flood_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::Relaxed)
    }
}

async fn serve(
    stream: TcpStream,
    script: Arc<RawScript>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    sent: Arc<AtomicU64>,
) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader).await else {
        return;
    };
    let index = {
        let mut all = recorded.lock().unwrap();
        all.push(request.clone());
        all.len() - 1
    };
    let mut stream = reader.into_inner();
    match script(&request, index) {
        Act::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
        }
        Act::Close => {}
        Act::CloseMidBody { head, partial } => {
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&partial).await;
        }
        Act::Stall {
            head,
            partial,
            hold,
        } => {
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&partial).await;
            let _ = stream.flush().await;
            tokio::time::sleep(hold).await;
        }
        Act::Flood {
            head,
            total,
            chunked,
        } => {
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b' '; 64 * 1024];
            let mut left = total;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                let written = if chunked {
                    let mut frame = format!("{n:x}\r\n").into_bytes();
                    frame.extend_from_slice(&block[..n]);
                    frame.extend_from_slice(b"\r\n");
                    stream.write_all(&frame).await
                } else {
                    stream.write_all(&block[..n]).await
                };
                if written.is_err() {
                    return;
                }
                sent.fetch_add(n as u64, Ordering::Relaxed);
                left -= n as u64;
            }
            if chunked {
                let _ = stream.write_all(b"0\r\n\r\n").await;
            }
        }
    }
    let _ = stream.shutdown().await;
}

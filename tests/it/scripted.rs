//! A scripted HTTP/1.1 server on loopback for behaviour that depends on a sequence of answers
//! (Running, Running, Complete; 429 then 200; 401 then a new token) and on when requests
//! arrive. Every request is recorded with its arrival time; the script decides each reply
//! from the request and how many requests came before it on the same method and path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

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
/// which is all any test sends). Shared with the raw TCP fault server.
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

//! Stand-ins for the outside world, started by the tests on loopback: an SMTP sink that
//! records every message (and can refuse permanently or be down), and an HTTP SMS gateway
//! that records every request and answers with a chosen status.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use customerlink::clock::ManualClock;

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub rcpt: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The message text with quoted-printable soft breaks undone (URLs may be wrapped).
    pub fn unwrapped(&self) -> String {
        self.data.replace("=\r\n", "").replace("=3D", "=")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .split("\r\n")
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }
}

/// An SMTP server that accepts (or permanently refuses) everything.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    refuse: Arc<AtomicBool>,
    slow: Slow,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A clock each accepted message moves, and by how many milliseconds: a slow relay.
type Slow = Arc<Mutex<Option<(Arc<ManualClock>, i64)>>>;

impl SmtpSink {
    pub fn start() -> SmtpSink {
        Self::start_on(0)
    }

    /// On a given port (to come back after being down).
    pub fn start_on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind smtp sink");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let refuse = Arc::new(AtomicBool::new(false));
        let slow: Slow = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (m, r, s) = (Arc::clone(&mails), Arc::clone(&refuse), Arc::clone(&stop));
        let w = Arc::clone(&slow);
        let thread = std::thread::spawn(move || {
            let mut open: Vec<TcpStream> = Vec::new();
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        if let Ok(clone) = stream.try_clone() {
                            open.push(clone);
                        }
                        let (m, r, w) = (Arc::clone(&m), Arc::clone(&r), Arc::clone(&w));
                        std::thread::spawn(move || converse(stream, &m, &r, &w));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for stream in open {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        });
        SmtpSink {
            port,
            mails,
            refuse,
            slow,
            stop,
            thread: Some(thread),
        }
    }

    /// `smtp://127.0.0.1:PORT` (plain, no TLS: a local test relay).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// From now on each accepted message moves `clock` by `ms` before it is acknowledged:
    /// a relay that takes that long per message, as the server's clock sees it.
    pub fn each_message_takes(&self, clock: Arc<ManualClock>, ms: i64) {
        *self.slow.lock().expect("slow") = Some((clock, ms));
    }

    /// From now on answer every recipient with `550` (a permanent failure).
    pub fn refuse_permanently(&self) {
        self.refuse.store(true, Ordering::SeqCst);
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("mails").clone()
    }

    /// Waits until at least `n` messages arrived (panics after 10 s).
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        wait_until(|| self.mails().len() >= n, "mail");
        self.mails()
    }

    /// Stops listening and closes every open connection (the relay goes down).
    pub fn stop(mut self) -> u16 {
        self.shutdown();
        self.port
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn converse(stream: TcpStream, mails: &Mutex<Vec<Mail>>, refuse: &AtomicBool, slow: &Slow) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut say = |text: &str| out.write_all(format!("{text}\r\n").as_bytes()).is_ok();
    if !say("220 sink.test ESMTP") {
        return;
    }
    let mut rcpt = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let ok = if command.starts_with("EHLO") {
            say("250-sink.test\r\n250 8BITMIME")
        } else if command.starts_with("HELO")
            || command.starts_with("MAIL")
            || command.starts_with("RSET")
            || command.starts_with("NOOP")
        {
            say("250 OK")
        } else if command.starts_with("RCPT") {
            if refuse.load(Ordering::SeqCst) {
                say("550 5.1.1 no such mailbox")
            } else {
                rcpt.push(
                    line.trim_end()[8..]
                        .trim()
                        .trim_matches(['<', '>'])
                        .to_owned(),
                );
                say("250 OK")
            }
        } else if command == "DATA" {
            say("354 go ahead");
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).unwrap_or(0) == 0 {
                    return;
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(&l);
            }
            mails.lock().expect("mails").push(Mail {
                rcpt: std::mem::take(&mut rcpt),
                data,
            });
            if let Some((clock, ms)) = &*slow.lock().expect("slow") {
                clock.advance_millis(*ms);
            }
            say("250 queued")
        } else if command == "QUIT" {
            let _ = say("221 bye");
            return;
        } else {
            say("502 unknown")
        };
        if !ok {
            return;
        }
    }
}

/// One HTTP request as the gateway received it.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl GatewayRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decoded `application/x-www-form-urlencoded` fields of the body.
    pub fn form(&self) -> Vec<(String, String)> {
        decode_pairs(&self.body)
    }

    /// Decoded query parameters of the target.
    pub fn query(&self) -> Vec<(String, String)> {
        decode_pairs(self.target.split_once('?').map_or("", |(_, q)| q))
    }
}

fn decode_pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

/// An HTTP server standing in for an SMS gateway.
pub struct SmsGateway {
    pub port: u16,
    requests: Arc<Mutex<Vec<GatewayRequest>>>,
    status: Arc<AtomicU16>,
}

impl SmsGateway {
    /// Answers every request with 201 until told otherwise.
    pub fn start() -> SmsGateway {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind gateway");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(201));
        let (r, s) = (Arc::clone(&requests), Arc::clone(&status));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, s) = (Arc::clone(&r), Arc::clone(&s));
                std::thread::spawn(move || serve_one(stream, &r, &s));
            }
        });
        SmsGateway {
            port,
            requests,
            status,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<GatewayRequest> {
        self.requests.lock().expect("requests").clone()
    }

    pub fn wait_for(&self, n: usize) -> Vec<GatewayRequest> {
        wait_until(|| self.requests().len() >= n, "gateway request");
        self.requests()
    }
}

fn serve_one(stream: TcpStream, requests: &Mutex<Vec<GatewayRequest>>, status: &AtomicU16) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut l = String::new();
            if reader.read_line(&mut l).unwrap_or(0) == 0 {
                return;
            }
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((n, v)) = l.split_once(':') {
                headers.push((n.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0usize);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        requests.lock().expect("requests").push(GatewayRequest {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let code = status.load(Ordering::SeqCst);
        let body = r#"{"sid":"SM0001"}"#;
        let reply = format!(
            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Polls `done` every 20 ms for up to 10 s.
pub fn wait_until(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! Connection limits against hostile clients, over raw sockets: slow (slowloris) and silent
//! connections cannot starve a normal client and are closed after the header read timeout;
//! kept-alive connections live by their own idle timeout; a trickled body gets 408; an
//! oversized head gets 431.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::support::{TestServer, keep_alive};

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const IDLE_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_CONNECTIONS: usize = 12;

fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.http.max_connections = MAX_CONNECTIONS;
        c.http.header_read_timeout = HEADER_TIMEOUT;
        c.http.keep_alive_idle = IDLE_TIMEOUT;
        c.http.body_read_timeout = HEADER_TIMEOUT;
    })
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Starts `n` connections that send a request head one byte every 100 ms, forever.
fn tricklers(addr: SocketAddr, n: usize, stop: &Arc<AtomicBool>) -> Vec<TcpStream> {
    let conns: Vec<TcpStream> = (0..n).map(|_| connect(addr)).collect();
    let mut writers: Vec<TcpStream> = conns.iter().map(|c| c.try_clone().unwrap()).collect();
    let stop = Arc::clone(stop);
    std::thread::spawn(move || {
        let head = b"GET /v1/contact HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        for i in 0.. {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let byte = head.get(i).copied().unwrap_or(b'a');
            for w in &mut writers {
                let _ = w.write_all(&[byte]);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    conns
}

/// True once the server has closed the connection (EOF or reset), reading whatever it sent.
fn closed_by_server(conn: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut;
            }
        }
    }
}

/// True if the server has already closed the connection (without waiting for it to).
fn closed_already(conn: &mut TcpStream) -> bool {
    conn.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 1024];
    let closed = loop {
        match conn.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) => break e.kind() != std::io::ErrorKind::WouldBlock,
        }
    };
    conn.set_nonblocking(false).unwrap();
    closed
}

/// Waits until one header timeout has passed on the server: it closes a silent connection.
fn one_header_timeout(addr: SocketAddr) {
    assert!(
        closed_by_server(&mut connect(addr)),
        "a silent connection stays open"
    );
}

/// One request on an open connection; returns the status and leaves the connection open.
fn exchange(conn: &mut TcpStream, key: &str) -> u16 {
    keep_alive::exchange(conn, key).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn slow_and_silent_connections_cannot_starve_a_normal_client() {
    let s = server();
    let stop = Arc::new(AtomicBool::new(false));
    let mut slow = tricklers(s.addr, MAX_CONNECTIONS - 4, &stop);
    let mut silent: Vec<TcpStream> = (0..2).map(|_| connect(s.addr)).collect();
    s.get("/v1/contact").expect(200);
    for (i, conn) in slow.iter_mut().chain(silent.iter_mut()).enumerate() {
        assert!(
            !closed_already(conn),
            "served at once below the limit, not after connection {i} timed out"
        );
    }
    for (i, conn) in slow.iter_mut().chain(silent.iter_mut()).enumerate() {
        assert!(
            closed_by_server(conn),
            "connection {i} still open after the header timeout"
        );
    }
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn at_the_connection_limit_a_client_waits_at_most_one_header_timeout() {
    let s = server();
    let stop = Arc::new(AtomicBool::new(false));
    let mut slow = tricklers(s.addr, MAX_CONNECTIONS, &stop);
    // The tricklers connected first, so the server took them first (the listen backlog is
    // in order) and they hold every slot: the client gets in only when a header timeout
    // frees one, so by its answer at least one trickler is closed, and none is needed before.
    s.get("/v1/contact").expect(200);
    assert!(
        slow.iter_mut().any(closed_already),
        "the client got in when a header timeout freed a slot"
    );
    stop.store(true, Ordering::SeqCst);
}

#[test]
fn kept_alive_connections_live_by_the_idle_timeout() {
    let s = server();
    let mut conn = connect(s.addr);
    assert_eq!(exchange(&mut conn, &s.key), 200);
    // Idle through a whole header timeout (a silent connection opened after it closed),
    // shorter than the idle timeout: still open, twice.
    for _ in 0..2 {
        one_header_timeout(s.addr);
        assert!(!closed_already(&mut conn), "closed by the header timeout");
        assert_eq!(exchange(&mut conn, &s.key), 200);
    }
    assert!(
        closed_by_server(&mut conn),
        "closed once idle for the idle timeout"
    );
}

#[test]
fn a_trickled_body_gets_408_and_an_oversized_head_431() {
    let s = server();
    let mut conn = connect(s.addr);
    let head = format!(
        "PUT /v1/contact/5 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{{",
        s.key
    );
    conn.write_all(head.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = conn.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");

    let mut conn = connect(s.addr);
    let big = format!(
        "GET /v1/contact HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let _ = conn.write_all(big.as_bytes());
    let mut reply = String::new();
    let _ = conn.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");
}

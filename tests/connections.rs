//! Connection slots against one greedy client, over raw sockets: one address cannot hold more
//! than `max_connections_per_address` (the next gets a 503 or a plain close; other addresses
//! still get in), a trusted proxy is exempt, and at `max_connections` an idle kept-alive
//! connection is closed to admit a new client. Clients bind 127.0.0.x to be distinct
//! addresses on loopback.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use customerlink::config::{Cidr, Config};

use crate::support::{TestServer, keep_alive};

/// A connection from `127.0.0.<host>`.
fn connect_from(host: u8, addr: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::from(([127, 0, 0, host], 0)))
            .unwrap();
        socket.connect(addr).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// One request on a kept-alive connection; the status, or 0 when the server closed it.
fn exchange(conn: &mut TcpStream, key: &str) -> u16 {
    keep_alive::exchange(conn, key).unwrap_or(0)
}

/// `n` kept-alive connections from `127.0.0.<host>`, each served once and now idle.
fn idle_connections(s: &TestServer, host: u8, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut c = connect_from(host, s.addr);
            assert_eq!(exchange(&mut c, &s.key), 200);
            c
        })
        .collect()
}

fn per_address(c: &mut Config) {
    c.http.max_connections = 20;
    c.http.max_connections_per_address = 3;
}

#[test]
fn one_address_cannot_hold_more_than_its_share() {
    let s = TestServer::start_with(per_address);
    let mut held = idle_connections(&s, 2, 3);
    let mut extra = connect_from(2, s.addr);
    let refused = exchange(&mut extra, &s.key);
    assert!(
        refused == 503 || refused == 0,
        "a fourth connection from one address is not served (got {refused})"
    );
    let mut other = connect_from(3, s.addr);
    assert_eq!(exchange(&mut other, &s.key), 200, "another address gets in");
    for c in &mut held {
        assert_eq!(exchange(c, &s.key), 200, "the held connections still work");
    }
    drop(held.pop());
    // The share frees once the server has seen the close: wait for that, not for a time.
    crate::support::sinks::wait_until(
        || exchange(&mut connect_from(2, s.addr), &s.key) == 200,
        "a freed share is reusable",
    );
}

#[test]
fn a_trusted_proxy_is_exempt_from_the_per_address_share() {
    let s = TestServer::start_with(|c| {
        per_address(c);
        c.http.trusted_proxies = vec![Cidr::parse("127.0.0.4").unwrap()];
    });
    let _held = idle_connections(&s, 4, 6);
}

#[test]
fn at_the_global_limit_an_idle_connection_is_closed_to_admit_a_new_client() {
    let s = TestServer::start_with(|c| {
        c.http.max_connections = 4;
        c.http.keep_alive_idle = Duration::from_secs(20);
    });
    let mut held = idle_connections(&s, 5, 4);
    let mut newcomer = connect_from(6, s.addr);
    assert_eq!(exchange(&mut newcomer, &s.key), 200);
    // Admitted at once, not after the idle timeout: that would have closed all four.
    let statuses: Vec<u16> = held.iter_mut().map(|c| exchange(c, &s.key)).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 0).count(),
        1,
        "exactly one idle connection made room: {statuses:?}"
    );
}

//! The client's address, resolved once per request: the TCP peer, unless the peer is a trusted
//! reverse proxy (`[http] trusted_proxies`), in which case the configured header names it —
//! the rightmost hop that is not itself a trusted proxy, since every hop left of an untrusted
//! one was written by a party we do not trust. Headers from untrusted peers are ignored. A hop
//! that does not parse stops the walk at the last address believed (fail towards the proxy).

use std::net::{IpAddr, SocketAddr};

use hyper::HeaderMap;

use crate::config::{ClientIpHeader, HttpLimits, canonical_ip};

/// The address limits, the access log and everything else see as the client.
pub fn client_ip(limits: &HttpLimits, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    let trusted = |ip: IpAddr| limits.trusted_proxies.iter().any(|b| b.contains(ip));
    let mut client = canonical_ip(peer);
    if !trusted(client) {
        return client;
    }
    for hop in hops(limits.client_ip_header, headers).into_iter().rev() {
        let Some(ip) = hop else { break };
        client = ip;
        if !trusted(ip) {
            break;
        }
    }
    client
}

/// The hops a header lists, left (farthest) to right (nearest); `None` for one that does not parse.
fn hops(header: ClientIpHeader, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut values = headers
        .get_all(header.name())
        .iter()
        .map(|v| v.to_str().ok());
    match header {
        ClientIpHeader::XForwardedFor => values
            .flat_map(|v| match v {
                Some(v) => v.split(',').map(node).collect(),
                None => vec![None],
            })
            .collect(),
        ClientIpHeader::Forwarded => values
            .flat_map(|v| match v {
                Some(v) => v.split(',').map(forwarded_for).collect(),
                None => vec![None],
            })
            .collect(),
        ClientIpHeader::XRealIp => values
            .next_back()
            .map(|v| v.and_then(node))
            .into_iter()
            .collect(),
    }
}

/// The `for=` parameter of one RFC 7239 element.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
        .and_then(|(_, v)| node(v.trim().trim_matches('"')))
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:80`.
fn node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let ip = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| text.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(canonical_ip(ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cidr;

    fn limits(trusted: &[&str], header: ClientIpHeader) -> HttpLimits {
        let mut limits = crate::config::Config::resolve(
            crate::config::Overrides::default(),
            crate::config::FileConfig::default(),
        )
        .map(|c| c.http)
        .unwrap_or_else(|e| panic!("{e:?}"));
        limits.trusted_proxies = trusted.iter().filter_map(|t| Cidr::parse(t)).collect();
        limits.client_ip_header = header;
        limits
    }

    fn resolve(l: &HttpLimits, header: &'static str, value: &'static str, peer: &str) -> String {
        let mut h = HeaderMap::new();
        h.insert(header, hyper::header::HeaderValue::from_static(value));
        client_ip(l, &h, peer.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))).to_string()
    }

    #[test]
    fn the_rightmost_untrusted_hop_of_a_trusted_peer_is_the_client() {
        let l = limits(&["10.0.0.0/8"], ClientIpHeader::XForwardedFor);
        let xff = "x-forwarded-for";
        assert_eq!(
            resolve(&l, xff, "1.1.1.1, 2.2.2.2, 10.0.0.7", "10.0.0.1"),
            "2.2.2.2"
        );
        assert_eq!(
            resolve(&l, xff, "10.0.0.9, 10.0.0.7", "10.0.0.1"),
            "10.0.0.9"
        );
        assert_eq!(
            resolve(&l, xff, "1.1.1.1", "3.3.3.3"),
            "3.3.3.3",
            "untrusted peer"
        );
        assert_eq!(resolve(&l, xff, "1.1.1.1, junk", "10.0.0.1"), "10.0.0.1");
        assert_eq!(
            resolve(&l, xff, "[2001:db8::5]:80", "::ffff:10.0.0.1"),
            "2001:db8::5"
        );
    }

    #[test]
    fn forwarded_and_x_real_ip() {
        let l = limits(&["127.0.0.1"], ClientIpHeader::Forwarded);
        let value = "for=192.0.2.60;proto=http, For=\"[2001:db8::1]:1234\";by=x";
        assert_eq!(resolve(&l, "forwarded", value, "127.0.0.1"), "2001:db8::1");
        assert_eq!(
            resolve(&l, "forwarded", "for=unknown", "127.0.0.1"),
            "127.0.0.1"
        );
        let l = limits(&["127.0.0.1"], ClientIpHeader::XRealIp);
        assert_eq!(
            resolve(&l, "x-real-ip", "198.51.100.4", "127.0.0.1"),
            "198.51.100.4"
        );
        assert_eq!(
            resolve(&l, "x-forwarded-for", "198.51.100.4", "127.0.0.1"),
            "127.0.0.1"
        );
    }
}

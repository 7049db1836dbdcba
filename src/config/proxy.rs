//! `[http] trusted_proxies` and `[http] client_ip_header`: which TCP peers are reverse proxies
//! whose client-address header is believed, and which header that is. Parsing only; the http
//! layer resolves the client address from them.

use std::net::IpAddr;

use super::{ConfigError, err};

/// An address block: an address and a prefix length (`10.0.0.0/8`, `::1/128`; a bare address
/// is the block of that one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr` or `addr/prefix`; `None` when either part is not valid.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let network = canonical(addr.parse().ok()?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Cidr { network, prefix })
    }

    /// Whether `ip` lies in this block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                prefix_eq(&n.octets(), &a.octets(), usize::from(self.prefix))
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                prefix_eq(&n.octets(), &a.octets(), usize::from(self.prefix))
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 peers) as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn prefix_eq(a: &[u8], b: &[u8], bits: usize) -> bool {
    let (whole, rest) = (bits / 8, bits % 8);
    if a.get(..whole) != b.get(..whole) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(whole), b.get(whole)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

/// The header a trusted proxy puts the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientIpHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (each proxy appends its peer).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=192.0.2.1, for="[2001:db8::1]:1234"`.
    Forwarded,
    /// `X-Real-IP: client` (one address, set by the proxy).
    XRealIp,
}

impl ClientIpHeader {
    /// The header's name as sent.
    pub fn name(self) -> &'static str {
        match self {
            ClientIpHeader::XForwardedFor => "x-forwarded-for",
            ClientIpHeader::Forwarded => "forwarded",
            ClientIpHeader::XRealIp => "x-real-ip",
        }
    }
}

pub(super) fn resolve_trusted(list: Option<&[String]>, errors: &mut Vec<ConfigError>) -> Vec<Cidr> {
    let mut blocks = Vec::new();
    for text in list.unwrap_or_default() {
        match Cidr::parse(text) {
            Some(block) => blocks.push(block),
            None => errors.push(err(
                "http.trusted_proxies",
                format!("{text:?} is not an IP address or CIDR block (e.g. \"10.0.0.0/8\")"),
            )),
        }
    }
    blocks
}

pub(super) fn resolve_header(name: Option<&str>, errors: &mut Vec<ConfigError>) -> ClientIpHeader {
    let Some(name) = name else {
        return ClientIpHeader::default();
    };
    [
        ClientIpHeader::XForwardedFor,
        ClientIpHeader::Forwarded,
        ClientIpHeader::XRealIp,
    ]
    .into_iter()
    .find(|h| h.name().eq_ignore_ascii_case(name.trim()))
    .unwrap_or_else(|| {
        errors.push(err(
            "http.client_ip_header",
            "must be \"X-Forwarded-For\", \"Forwarded\" or \"X-Real-IP\"",
        ));
        ClientIpHeader::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let b = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(b.contains(ip("10.1.200.3")) && !b.contains(ip("10.2.0.1")));
        assert!(b.contains(ip("::ffff:10.1.0.9")), "mapped IPv4");
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6 = Cidr::parse("2001:db8::/33").unwrap();
        assert!(v6.contains(ip("2001:db8:7fff::1")) && !v6.contains(ip("2001:db8:8000::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(!v6.contains(ip("10.0.0.1")));
    }

    #[test]
    fn bad_blocks_and_headers_are_named() {
        for bad in ["10.0.0.0/33", "::/129", "nope", "10.0.0.0/+8", "10.0.0.0/"] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
        let mut errors = Vec::new();
        resolve_trusted(Some(&["1.2.3.4/40".to_owned()]), &mut errors);
        assert_eq!(
            resolve_header(Some("Forwarded"), &mut errors),
            ClientIpHeader::Forwarded
        );
        assert_eq!(
            resolve_header(Some("x-real-ip"), &mut errors),
            ClientIpHeader::XRealIp
        );
        resolve_header(Some("X-Client"), &mut errors);
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["http.trusted_proxies", "http.client_ip_header"]);
    }
}

//! Who the client is, for the rate limits. Behind a reverse proxy every
//! request arrives from the proxy, so its address would put every client in
//! one budget; the proxy says who it forwarded for in `Forwarded` (RFC 7239)
//! or `X-Forwarded-For`. Those headers are believed only from the hops in
//! `REPOPASS_TRUSTED_PROXIES`, walking the chain from the nearest hop back:
//! the first address not in the list is the client (anything further left
//! was written by the client and can be forged).
//!
//! Hand-written (about forty lines) rather than a crate: the crates we
//! looked at (axum-client-ip) pick one fixed header position instead of
//! walking a list of trusted networks.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use ipnet::IpNet;

/// The client's address as far as the trusted proxies vouch for it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_chain(headers).into_iter().rev() {
        match hop {
            Some(ip) if is_trusted(&client) => client = ip,
            // An unreadable hop ("unknown", a hidden name): stop at the last address we can vouch for.
            _ => break,
        }
    }
    client
}

/// The addresses the proxies recorded, oldest first: `Forwarded`'s `for=`
/// if present, else `X-Forwarded-For`. `None` for a hop that is not an
/// address.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element
                .split(';')
                .find_map(|pair| pair.trim().strip_prefix("for=").or_else(|| pair.trim().strip_prefix("For=")))
        })
        .map(parse_node)
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `[2001:db8::1]`, `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    node.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())
}

/// The key a client's budget is kept under: IPv6 clients by their /64 (one
/// customer's line gets a whole /64, so single addresses are free to them).
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        map
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=198.51.100.1")]);
        assert_eq!(client_ip(ip("192.0.2.7"), &h, &[]), ip("192.0.2.7"));
        // A peer outside the list is not believed either.
        assert_eq!(client_ip(ip("192.0.2.7"), &h, &nets(&["10.0.0.0/8"])), ip("192.0.2.7"));
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        // The client forged the leftmost entry; the proxy appended the real one.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
        // Two proxies of ours in a row.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.3")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
        // Several header lines count as one list.
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-for", "10.0.0.3")]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_is_read_with_ports_quotes_and_ipv6() {
        let trusted = nets(&["127.0.0.1/32"]);
        let h = headers(&[("forwarded", r#"for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https"#)]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
        let h = headers(&[("x-forwarded-for", "198.51.100.4:5000")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.4"));
    }

    #[test]
    fn ipv6_clients_share_a_budget_per_64() {
        assert_eq!(rate_key(ip("2001:db8:1:2:aaaa::1")), rate_key(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(rate_key(ip("2001:db8:1:2::1")), rate_key(ip("2001:db8:1:3::1")));
        assert_eq!(rate_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(rate_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}

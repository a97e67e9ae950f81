//! Where RepoPass may send a creator's outgoing webhooks (issue 23): only
//! to public addresses. An endpoint URL is typed by whoever holds an admin
//! session or an API key; without this guard it could make RepoPass call
//! itself, its database's host, the private network around it or a cloud
//! metadata service (169.254.169.254) and show the answer in the delivery
//! log.
//!
//! A name is checked where it is resolved — in the HTTP client's own
//! resolver (`PublicOnly`) — so the address checked is the address
//! connected to: a name that resolves to a public address when the endpoint
//! is saved and to a private one when a delivery is sent (DNS rebinding) is
//! refused at sending. An address written in the URL is never resolved, so
//! `check_url` checks it before the request is made. The sandbox and the
//! tests deliver to this machine on purpose: they build the client with
//! `Reach::Anywhere`.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

/// Why an address is not one RepoPass sends webhooks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0} is this machine (a loopback address)")]
    Loopback(IpAddr),
    #[error("{0} is a private network address")]
    Private(IpAddr),
    #[error("{0} is a link-local address (cloud metadata services live there)")]
    LinkLocal(IpAddr),
    #[error("{0} is not an address a server can be reached at (unspecified, multicast, broadcast or reserved)")]
    NotReachable(IpAddr),
    #[error("the address is written in a form that hides another one ({0})")]
    Hidden(IpAddr),
}

/// Whether `ip` is a public address: the one decision everything here
/// rests on.
pub fn check(ip: IpAddr) -> Result<(), Refused> {
    match ip {
        IpAddr::V4(v4) => check_v4(v4, ip),
        IpAddr::V6(v6) => check_v6(v6),
    }
}

fn check_v4(v4: Ipv4Addr, shown: IpAddr) -> Result<(), Refused> {
    let [a, b, c, _] = v4.octets();
    if v4.is_loopback() {
        Err(Refused::Loopback(shown))
    } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 100.64.0.0/10: carrier-grade NAT, private to a provider's network.
        Err(Refused::Private(shown))
    } else if v4.is_link_local() {
        Err(Refused::LinkLocal(shown))
    } else if a == 0
        || v4.is_multicast()
        || v4.is_broadcast()
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
        || v4.is_documentation()
        || (a == 198 && (b == 18 || b == 19))
    {
        Err(Refused::NotReachable(shown))
    } else {
        Ok(())
    }
}

fn check_v6(v6: Ipv6Addr) -> Result<(), Refused> {
    let ip = IpAddr::V6(v6);
    // An IPv4 address inside an IPv6 one reaches that IPv4 address: mapped
    // (::ffff:a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002:aabb:ccdd::/48) and
    // the old compatible form (::a.b.c.d).
    if let Some(v4) = embedded_v4(v6) {
        return check_v4(v4, ip).map_err(|_| Refused::Hidden(IpAddr::V4(v4)));
    }
    let first = v6.segments()[0];
    if v6.is_loopback() {
        Err(Refused::Loopback(ip))
    } else if v6.is_unique_local() || first & 0xffc0 == 0xfec0 {
        // fc00::/7, and the deprecated site-local fec0::/10.
        Err(Refused::Private(ip))
    } else if v6.is_unicast_link_local() {
        Err(Refused::LinkLocal(ip))
    } else if v6.is_unspecified() || v6.is_multicast() || first == 0x2001 && v6.segments()[1] == 0x0db8 {
        Err(Refused::NotReachable(ip))
    } else {
        Ok(())
    }
}

fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = v6.to_ipv4_mapped() {
        Some(v4)
    } else if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(tail)
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8))
    } else if s[..6] == [0; 6] && !v6.is_unspecified() && !v6.is_loopback() {
        Some(tail)
    } else {
        None
    }
}

/// Whether a URL's host may be sent to, as far as can be told without
/// resolving it: an address written in the URL is checked here (the
/// resolver never sees it); a name is checked by `PublicOnly` when sending.
pub fn check_url(url: &url::Url) -> Result<(), Refused> {
    match url.host() {
        Some(url::Host::Ipv4(v4)) => check(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => check(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) | None => Ok(()),
    }
}

/// The longest one delivery may take, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the client may connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Production: public addresses only.
    PublicOnly,
    /// The sandbox and the tests: this machine too (the request bin).
    Anywhere,
}

/// The HTTP client outgoing webhooks are sent with: 10 s for the whole
/// request, redirects not followed (a redirect could point anywhere, and
/// the receiver's answer is what counts), no proxy from the environment
/// (it would resolve names itself, out of the guard's sight), and names
/// resolved through `PublicOnly` unless `reach` says otherwise.
pub fn client(reach: Reach) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("RepoPass-Webhooks/", env!("CARGO_PKG_VERSION")));
    match reach {
        Reach::PublicOnly => builder.dns_resolver(Arc::new(PublicOnly)).build(),
        Reach::Anywhere => builder.build(),
    }
}

/// A resolver that answers only when every address a name resolves to is
/// public: a name with one private address among public ones is refused
/// whole, since the client may connect to any of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(refused) = addrs.iter().find_map(|a| check(a.ip()).err()) {
                return Err(Box::new(NameRefused { host, refused }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A name that resolves to an address webhooks are not sent to.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {refused}")]
pub struct NameRefused {
    pub host: String,
    pub refused: Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(ip: &str) -> Result<(), Refused> {
        check(ip.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass() {
        for ip in ["93.184.215.14", "140.82.112.3", "8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e"] {
            assert_eq!(verdict(ip), Ok(()), "{ip}");
        }
    }

    #[test]
    fn loopback_private_and_link_local_are_refused() {
        let cases = [
            ("127.0.0.1", "Loopback"),
            ("127.8.9.10", "Loopback"),
            ("::1", "Loopback"),
            ("10.0.0.5", "Private"),
            ("172.16.0.1", "Private"),
            ("172.31.255.254", "Private"),
            ("192.168.1.1", "Private"),
            ("100.64.0.1", "Private"),
            ("fd12:3456::1", "Private"),
            ("fc00::1", "Private"),
            ("169.254.169.254", "LinkLocal"),
            ("fe80::1", "LinkLocal"),
            ("0.0.0.0", "NotReachable"),
            ("::", "NotReachable"),
            ("224.0.0.1", "NotReachable"),
            ("255.255.255.255", "NotReachable"),
            ("ff02::1", "NotReachable"),
        ];
        for (ip, kind) in cases {
            let refused = verdict(ip).expect_err(ip);
            assert!(format!("{refused:?}").starts_with(kind), "{ip}: {refused:?}");
        }
        // Next door to a private range is public.
        assert_eq!(verdict("172.32.0.1"), Ok(()));
        assert_eq!(verdict("100.128.0.1"), Ok(()));
    }

    #[test]
    fn an_ipv4_address_inside_an_ipv6_one_is_judged_as_itself() {
        for (ip, inside) in [
            ("::ffff:127.0.0.1", "127.0.0.1"),
            ("::ffff:10.1.2.3", "10.1.2.3"),
            ("::ffff:169.254.169.254", "169.254.169.254"),
            ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
            ("2002:7f00:1::", "127.0.0.1"),
            ("::127.0.0.1", "127.0.0.1"),
        ] {
            assert_eq!(verdict(ip), Err(Refused::Hidden(inside.parse().unwrap())), "{ip}");
        }
        assert_eq!(verdict("::ffff:8.8.8.8"), Ok(()), "a mapped public address is public");
    }

    #[test]
    fn an_address_written_in_the_url_is_checked_without_resolving() {
        let refused = |u: &str| check_url(&url::Url::parse(u).unwrap()).is_err();
        assert!(refused("http://127.0.0.1:8080/hook"));
        assert!(refused("http://[::1]/hook"));
        assert!(refused("https://[::ffff:192.168.0.1]/hook"));
        assert!(refused("http://2130706433/hook"), "127.0.0.1 written as one number");
        assert!(refused("http://0x7f.1/hook"), "127.0.0.1 in hexadecimal");
        assert!(!refused("https://hooks.example.com/repopass"), "names are checked when resolved");
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_this_machine_is_refused_before_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });

        let error = client(Reach::PublicOnly)
            .unwrap()
            .post(format!("http://localhost:{port}/hook"))
            .body("{}")
            .send()
            .await
            .expect_err("localhost is this machine");
        let chain = format!("{:?}", error_chain(&error));
        assert!(chain.contains("localhost resolves to"), "{chain}");
        assert!(chain.contains("loopback"), "{chain}");

        // The same request is allowed where the sandbox sends: the listener
        // is reached, so the refusal above was the guard's.
        let _ = client(Reach::Anywhere).unwrap().post(format!("http://localhost:{port}/hook")).send().await;
        assert!(tokio::time::timeout(Duration::from_secs(5), accepted).await.unwrap().unwrap());
    }

    /// The error and its sources, as one text.
    fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
        let mut out = error.to_string();
        let mut source = error.source();
        while let Some(e) = source {
            out.push_str(": ");
            out.push_str(&e.to_string());
            source = e.source();
        }
        out
    }
}

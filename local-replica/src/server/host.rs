//! Which `Host` a request may name: a defence against DNS rebinding.
//!
//! A web page at `http://evil.example.com:4943` whose name its owner then points at 127.0.0.1
//! reaches this replica as the page's own origin, so the browser lets it read every answer. Such
//! a request still says `Host: evil.example.com:4943`, and is refused. Taken are the names this
//! replica is reached by — `localhost` and every `*.localhost` (the gateway's
//! `<id>.localhost`, `<id>.raw.localhost`; browsers resolve these to loopback themselves),
//! any IP address literal (`127.0.0.1`, `[::1]`, the bound address: rebinding always sends a
//! name, never an address) — and the names the replica is configured with.
//!
//! The port is not checked: a page chooses its own port as freely as its name, so checking it
//! adds nothing, and a replica reached through a forwarded port (`ssh -L 9000:localhost:4943`)
//! keeps working. A request with no `Host` at all (HTTP/1.0) cannot come from a browser and is
//! taken.

use std::net::Ipv4Addr;

/// Whether a request naming `host` (a `Host` header's value, port included) is for this replica,
/// which also answers to `names`.
pub(crate) fn allowed(host: &str, names: &[String]) -> bool {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        // An IPv6 literal, `[::1]:4943`.
        return rest
            .split_once(']')
            .is_some_and(|(addr, _)| addr.parse::<std::net::Ipv6Addr>().is_ok());
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        Some(_) => return false,
        None => host,
    };
    if name.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || names.iter().any(|allowed| {
            let allowed = allowed.strip_suffix('.').unwrap_or(allowed);
            allowed.eq_ignore_ascii_case(&name)
        })
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn the_replicas_own_names_are_taken() {
        for host in [
            "127.0.0.1:4943",
            "127.0.0.1",
            "localhost:4943",
            "LocalHost:4943",
            "localhost.:4943",
            "[::1]:4943",
            "[::1]",
            "192.168.1.20:8080",
            "rrkah-fqaaa-aaaaa-aaaaq-cai.localhost:4943",
            "rrkah-fqaaa-aaaaa-aaaaq-cai.raw.localhost:4943",
        ] {
            assert!(allowed(host, &[]), "{host}");
        }
        assert!(allowed("vault.lan:4943", &["vault.lan".into()]));
        assert!(allowed("VAULT.LAN", &["vault.lan".into()]));
    }

    #[test]
    fn other_names_are_refused() {
        for host in [
            "evil.example.com:4943",
            "evil.example.com",
            "localhost.evil.example.com:4943",
            "127.0.0.1.evil.example.com:4943",
            "evilocalhost:4943",
            "localhost:4943:1",
            "[::1",
            "[evil]:4943",
            "",
        ] {
            assert!(!allowed(host, &["vault.lan".into()]), "{host}");
        }
    }
}

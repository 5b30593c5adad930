//! How an ingress controller picks the backend of an HTTP request from the
//! cluster's Ingress rules (networking.k8s.io/v1), as the Ingress API defines it and
//! ingress-nginx applies it:
//! - hosts: a rule with host `foo.bar.com` matches that Host header exactly; a
//!   wildcard `*.bar.com` matches exactly one more label (`x.bar.com`, not
//!   `bar.com` nor `a.x.bar.com`); a rule without a host matches any host. An exact
//!   host wins over a wildcard, a wildcard over no host.
//! - paths: `Exact` matches the path exactly (case-sensitive); `Prefix` matches by
//!   path elements split by `/` (`/foo` matches `/foo`, `/foo/` and `/foo/bar`,
//!   not `/foobar`; a trailing `/` in the rule is ignored). The longest matching
//!   path wins; at equal length `Exact` wins over `Prefix`.
//!   `ImplementationSpecific` is taken as `Prefix` (simplified: ingress-nginx
//!   treats it as an nginx location prefix, which also matches `/foobar`).
//! - nothing matches: the `defaultBackend` of the first Ingress (by namespace and
//!   name) that has one, else the controller's own default backend answers 404.

use std::net::Ipv4Addr;

use serde::Serialize;

/// One path of one rule, resolved to its backend's endpoints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    /// `namespace/name` of the Ingress.
    pub ingress: String,
    /// Empty: any host.
    pub host: String,
    pub path: String,
    /// `Exact`, `Prefix`, `ImplementationSpecific`, or `default` for a
    /// defaultBackend.
    pub path_type: String,
    /// `service NAME:PORT`, as the rule names it.
    pub backend: String,
    /// The backend Service's ready endpoints with the target port.
    pub endpoints: Vec<(Ipv4Addr, u16)>,
}

fn host_rank(rule: &str, host: &str) -> Option<u8> {
    if rule.is_empty() {
        return Some(0);
    }
    if rule.eq_ignore_ascii_case(host) {
        return Some(2);
    }
    let suffix = rule.strip_prefix("*.")?;
    let (first, rest) = host.split_once('.')?;
    (!first.is_empty() && rest.eq_ignore_ascii_case(suffix)).then_some(1)
}

/// The length of the match of `path` against a rule's path, if it matches.
fn path_match(kind: &str, rule: &str, path: &str) -> Option<usize> {
    match kind {
        "Exact" => (rule == path).then_some(rule.len()),
        _ => {
            let r = rule.trim_end_matches('/');
            if r.is_empty() {
                return Some(0);
            }
            let elems = |s: &str| -> Vec<String> {
                s.split('/')
                    .filter(|e| !e.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let (re, pe) = (elems(r), elems(path));
            (re.len() <= pe.len() && re.iter().zip(&pe).all(|(a, b)| a == b)).then_some(r.len())
        }
    }
}

/// The route a request for `host` and `path` takes, if any.
pub fn select<'r>(routes: &'r [Route], host: &str, path: &str) -> Option<&'r Route> {
    let host = host.split(':').next().unwrap_or(host);
    let best_host = routes
        .iter()
        .filter(|r| r.path_type != "default")
        .filter_map(|r| host_rank(&r.host, host))
        .max();
    let picked = best_host.and_then(|rank| {
        routes
            .iter()
            .filter(|r| r.path_type != "default" && host_rank(&r.host, host) == Some(rank))
            .filter_map(|r| {
                path_match(&r.path_type, &r.path, path).map(|len| (len, r.path_type == "Exact", r))
            })
            .fold(
                None::<(usize, bool, &Route)>,
                |best, (len, exact, r)| match best {
                    Some((bl, be, _)) if (bl, be) >= (len, exact) => best,
                    _ => Some((len, exact, r)),
                },
            )
            .map(|(_, _, r)| r)
    });
    picked.or_else(|| routes.iter().find(|r| r.path_type == "default"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(host: &str, path: &str, kind: &str, backend: &str) -> Route {
        Route {
            ingress: "default/ing".into(),
            host: host.into(),
            path: path.into(),
            path_type: kind.into(),
            backend: backend.into(),
            endpoints: Vec::new(),
        }
    }

    /// The Ingress documentation's examples of path matching.
    #[test]
    fn paths_match_as_the_ingress_documentation_tables_say() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("Prefix", "/", "/anything", true),
            ("Exact", "/foo", "/foo", true),
            ("Exact", "/foo", "/bar", false),
            ("Exact", "/foo", "/foo/", false),
            ("Exact", "/foo/", "/foo", false),
            ("Prefix", "/foo", "/foo", true),
            ("Prefix", "/foo", "/foo/", true),
            ("Prefix", "/foo/", "/foo", true),
            ("Prefix", "/foo/", "/foo/", true),
            ("Prefix", "/aaa/bb", "/aaa/bbb", false),
            ("Prefix", "/aaa/bbb", "/aaa/bbb", true),
            ("Prefix", "/aaa/bbb/", "/aaa/bbb", true),
            ("Prefix", "/aaa/bbb", "/aaa/bbb/", true),
            ("Prefix", "/aaa/bbb", "/aaa/bbb/ccc", true),
            ("Prefix", "/aaa/bbb", "/aaa/bbbxyz", false),
        ];
        for (kind, rule, path, want) in cases {
            assert_eq!(
                path_match(kind, rule, path).is_some(),
                *want,
                "{kind} {rule} {path}"
            );
        }
    }

    #[test]
    fn longest_path_then_exact_then_host_precedence() {
        let routes = vec![
            route("", "/", "Prefix", "a"),
            route("", "/aaa", "Prefix", "b"),
            route("", "/aaa", "Exact", "c"),
            route("foo.bar.com", "/", "Prefix", "d"),
            route("*.bar.com", "/", "Prefix", "e"),
        ];
        let pick = |h: &str, p: &str| select(&routes, h, p).map(|r| r.backend.as_str());
        assert_eq!(pick("x.example", "/aaa"), Some("c"));
        assert_eq!(pick("x.example", "/aaa/x"), Some("b"));
        assert_eq!(pick("x.example", "/z"), Some("a"));
        assert_eq!(pick("foo.bar.com", "/aaa"), Some("d"));
        assert_eq!(pick("baz.bar.com:80", "/"), Some("e"));
        // A wildcard covers one label only.
        assert_eq!(pick("a.baz.bar.com", "/z"), Some("a"));
        assert_eq!(pick("bar.com", "/z"), Some("a"));
        let only_host = vec![
            route("foo.bar.com", "/api", "Prefix", "x"),
            route("", "", "default", "dflt"),
        ];
        assert_eq!(
            select(&only_host, "other", "/api").map(|r| r.backend.as_str()),
            Some("dflt")
        );
        assert_eq!(
            select(&only_host, "foo.bar.com", "/web").map(|r| r.backend.as_str()),
            Some("dflt")
        );
        assert!(select(&only_host[..1], "foo.bar.com", "/web").is_none());
    }
}

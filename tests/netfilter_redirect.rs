//! The REDIRECT target of the iptables engine (kube-proxy's legacy userspace mode
//! sends Service traffic from containers to its own port with it): the option as
//! iptables parses and prints it, the kernel's table and hook checks, and packets:
//! a packet arriving on an interface goes to that interface's primary address, a
//! locally generated one to 127.0.0.1, the port rewritten, the binding kept in
//! conntrack as a DNAT so replies come back from the original address.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use std::net::Ipv4Addr;

use kubeglass::kernel::rng::Rng;
use kubeglass::network::netfilter::eval::Step;
use kubeglass::network::netfilter::parse::ErrorKind;
use kubeglass::network::netfilter::{
    Hook, HostAddrs, Netfilter, Packet, RestoreOptions, TableName, Target, Verdict,
};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

fn rules_of(nf: &Netfilter, chain: &str) -> Vec<String> {
    let save = nf.save(0);
    save.lines()
        .filter(|l| l.starts_with(&format!("-A {chain} ")))
        .map(str::to_string)
        .collect()
}

#[test]
fn redirect_parses_and_saves_as_iptables_prints_it() {
    let mut nf = Netfilter::new();
    let text = "*nat\n:PORTALS - [0:0]\n\
        -A PREROUTING -j PORTALS\n\
        -A PORTALS -m comment --comment \"default/web:http\" -p tcp -m tcp --dport 80 -d 10.96.0.20 -j REDIRECT --to-ports 36527\n\
        -A PORTALS -p udp --dport 53 -j REDIRECT --to-ports 5300-5310 --random\n\
        -A PORTALS -p tcp -j REDIRECT\n\
        COMMIT\n";
    let r = nf.restore(text, RestoreOptions::default());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        rules_of(&nf, "PORTALS"),
        vec![
            "-A PORTALS -d 10.96.0.20/32 -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 80 -j REDIRECT --to-ports 36527",
            "-A PORTALS -p udp -m udp --dport 53 -j REDIRECT --to-ports 5300-5310 --random",
            "-A PORTALS -p tcp -j REDIRECT",
        ]
    );
    let c = nf.rules.chain(TableName::Nat, "PORTALS");
    assert!(matches!(
        c.map(|c| &c.rules[0].target),
        Some(Target::Redirect { to_ports: Some(p), random: false }) if p.lo == 36527 && p.hi == 36527
    ));
    // The saved text loads again to the same rules.
    let saved = nf.save(0);
    let mut again = Netfilter::new();
    assert!(again.restore(&saved, RestoreOptions::default()).is_ok());
    assert_eq!(again.save(0), saved);
}

#[test]
fn redirect_is_refused_where_the_kernel_refuses_it() {
    let mut nf = Netfilter::new();
    // Only in the nat table.
    let e = nf
        .command("-t filter -A INPUT -p tcp -j REDIRECT --to-ports 80")
        .err();
    assert_eq!(
        e.map(|e| (e.kind, e.message)),
        Some((
            ErrorKind::LineFailed,
            "Invalid argument. Run `dmesg' for more information. (REDIRECT target: only valid in nat table, not filter)".to_string()
        ))
    );
    // Ports need a protocol with ports.
    let e = nf
        .command("-t nat -A PREROUTING -j REDIRECT --to-ports 80")
        .err();
    assert_eq!(
        e.map(|e| e.message),
        Some("Need TCP, UDP, SCTP or DCCP with port specification".to_string())
    );
    // A bad range, as libipt_REDIRECT words it.
    let e = nf
        .command("-t nat -A PREROUTING -p tcp -j REDIRECT --to-ports 90-80")
        .err();
    assert_eq!(
        e.map(|e| (e.kind, e.message)),
        Some((
            ErrorKind::Parameter,
            "REDIRECT: Bad value for \"--to-ports\" option: \"90-80\"".to_string()
        ))
    );
    // Only from PREROUTING and OUTPUT: directly in POSTROUTING...
    let e = nf
        .command("-t nat -A POSTROUTING -p tcp -j REDIRECT --to-ports 80")
        .err();
    assert_eq!(
        e.map(|e| e.message),
        Some("Invalid argument. Run `dmesg' for more information. (REDIRECT target: used from hooks POSTROUTING, but only usable from PREROUTING/OUTPUT)".to_string())
    );
    // ...or through a user chain that nat INPUT reaches; the whole input is refused.
    let text = "*nat\n:X - [0:0]\n-A X -p tcp -j REDIRECT --to-ports 80\n-A INPUT -j X\nCOMMIT\n";
    let e = nf.restore(text, RestoreOptions::default()).err();
    assert_eq!(
        e.as_ref().map(|e| e.message.as_str()),
        Some("Invalid argument. Run `dmesg' for more information. (REDIRECT target: used from hooks INPUT, but only usable from PREROUTING/OUTPUT)")
    );
    assert_eq!(e.map(|e| e.line), Some(5));
    assert!(nf.rules.chain(TableName::Nat, "X").is_none());
    // The same chain from OUTPUT is fine.
    let ok = "*nat\n:X - [0:0]\n-A X -p tcp -j REDIRECT --to-ports 80\n-A OUTPUT -j X\nCOMMIT\n";
    assert!(nf.restore(ok, RestoreOptions::default()).is_ok());
}

fn node() -> (Netfilter, HostAddrs) {
    let mut nf = Netfilter::new();
    let text = "*nat\n:PORTALS - [0:0]\n\
        -A PREROUTING -j PORTALS\n\
        -A OUTPUT -j PORTALS\n\
        -A PORTALS -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 36527\n\
        -A PORTALS -d 10.96.0.30/32 -p tcp -m tcp --dport 80 -j REDIRECT\n\
        COMMIT\n";
    let r = nf.restore(text, RestoreOptions::default());
    assert!(r.is_ok(), "{r:?}");
    let host = HostAddrs::new(&[
        ("eth0", ip("192.168.0.10")),
        ("cni0", ip("10.244.1.1")),
        ("lo", ip("127.0.0.1")),
    ]);
    (nf, host)
}

#[test]
fn a_packet_arriving_goes_to_its_interface_address_and_the_port() {
    let (mut nf, host) = node();
    let mut rng = Rng::new(1);
    let mut p = Packet::tcp(ip("10.244.1.5"), 40000, ip("10.96.0.20"), 80);
    p.in_iface = "cni0".into();
    let rec = nf.hook(Hook::Prerouting, &mut p, &host, &mut rng, 0);
    assert_eq!(rec.verdict, Verdict::Accept);
    // The bridge's address, not eth0's: the primary address of the incoming interface.
    assert_eq!((p.dst, p.dport), (ip("10.244.1.1"), 36527));
    let nat = rec.tables.iter().find(|t| t.table == TableName::Nat);
    let rewrite = nat.and_then(|t| {
        t.steps.iter().find_map(|s| match s {
            Step::Rewrite { what, from, to } => Some((*what, from.clone(), to.clone())),
            _ => None,
        })
    });
    assert_eq!(
        rewrite,
        Some((
            "REDIRECT",
            "10.96.0.20:80".to_string(),
            "10.244.1.1:36527".to_string()
        ))
    );
    // The connection is confirmed at INPUT; the reply is un-DNATed to the ClusterIP.
    let rec = nf.hook(Hook::Input, &mut p, &host, &mut rng, 0);
    assert_eq!(rec.verdict, Verdict::Accept);
    let mut reply = Packet::tcp(ip("10.244.1.1"), 36527, ip("10.244.1.5"), 40000);
    nf.hook(Hook::Output, &mut reply, &host, &mut rng, 1);
    nf.hook(Hook::Postrouting, &mut reply, &host, &mut rng, 1);
    assert_eq!((reply.src, reply.sport), (ip("10.96.0.20"), 80));
    // A second packet of the connection: conntrack, not the rule.
    let mut p2 = Packet::tcp(ip("10.244.1.5"), 40000, ip("10.96.0.20"), 80);
    p2.in_iface = "cni0".into();
    nf.hook(Hook::Prerouting, &mut p2, &host, &mut rng, 2);
    assert_eq!((p2.dst, p2.dport), (ip("10.244.1.1"), 36527));
    let c = nf.rules.chain(TableName::Nat, "PORTALS");
    assert_eq!(c.map(|c| c.rules[0].packets), Some(1));
}

#[test]
fn a_local_packet_goes_to_localhost_and_without_ports_keeps_its_port() {
    let (nf, host) = node();
    let mut rng = Rng::new(1);
    let mut p = Packet::tcp(ip("192.168.0.10"), 40000, ip("10.96.0.30"), 80);
    let rec = nf.trace_hook(Hook::Output, &mut p, &host, &mut rng, 0);
    assert_eq!(rec.verdict, Verdict::Accept);
    assert_eq!((p.dst, p.dport), (ip("127.0.0.1"), 80));
    // A trace changes nothing.
    assert!(nf.conntrack.is_empty());
}

#[test]
fn an_interface_without_an_address_drops_the_packet() {
    let (nf, host) = node();
    let mut rng = Rng::new(1);
    let mut p = Packet::tcp(ip("10.244.1.5"), 40000, ip("10.96.0.20"), 80);
    p.in_iface = "veth1234".into();
    let rec = nf.trace_hook(Hook::Prerouting, &mut p, &host, &mut rng, 0);
    assert_eq!(rec.verdict, Verdict::Drop);
    assert_eq!(p.dst, ip("10.96.0.20"));
}

//! iptables-restore input, loaded twice into a small kube-proxy shaped ruleset: a
//! failed load changes nothing, and reusing the rules of unchanged lines gives what
//! reading every line gives. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kubeglass::network::netfilter::parse::fuzz(data);
});

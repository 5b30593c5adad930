//! Architecture invariant 2: the same scenario and inputs give a byte-identical
//! trace natively and in wasm. The constants below are the FNV-1a hashes of the
//! rendered traces; this test runs natively (`cargo test`) and in headless Chrome
//! (`wasm-pack test`), so both targets must reach the same values.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use kubeglass::host::examples;
use kubeglass::host::sim::{trace_hash, Replay};
use kubeglass::host::Sim;
use kubeglass::protocol::{Input, PersonAction};

/// `kubeglass run examples/small-cluster.yaml`'s trace.
const SMALL_CLUSTER: u64 = 0x514a_b6ab_a307_eef9;
/// The pods-on-nodes example plus a person's actions, replayed from an inputs log.
const PODS_ON_NODES_WITH_INPUTS: u64 = 0x86e3_09ef_51c7_5575;
/// Ops that run took.
const HEAD_OPS: u64 = 316;

#[test]
fn an_example_scenario_traces_the_same_everywhere() {
    let text = examples::text("small-cluster").unwrap();
    let s = kubeglass::scenario::parse(text).unwrap();
    let (_, runner) = kubeglass::scenario::run(&s).unwrap();
    let hash = trace_hash(&runner.cluster.k.trace.render());
    assert_eq!(hash, SMALL_CLUSTER, "{hash:#018x}");
}

#[test]
fn an_inputs_log_replays_the_same_everywhere() {
    let text = examples::text("pods-on-nodes").unwrap();
    let actions = [
        (
            3,
            PersonAction::Kubectl {
                line: "run extra --image=nginx".into(),
            },
        ),
        (12, PersonAction::ScaleTest { pods: 250 }),
        (
            40,
            PersonAction::Kubectl {
                line: "get pods -o wide".into(),
            },
        ),
    ];
    // Take the actions live, between steps, as a person would...
    let mut live = Sim::new(text).unwrap();
    let mut inputs = Vec::new();
    for (steps, action) in actions {
        for _ in 0..steps {
            live.step();
        }
        inputs.push(Input {
            at: live.stamp(),
            action: action.clone(),
        });
        assert!(live.act(&action).1);
    }
    while live.step() {}
    let head = live.stamp();
    // ...then replay them from the log.
    let mut sim = Sim::new(text).unwrap();
    let mut next = 0;
    let r = sim.replay(&inputs, &mut next, head, &mut || false);
    assert_eq!(r, Ok(Replay::Done));
    assert_eq!(sim.trace_hash(), live.trace_hash());
    let hash = sim.trace_hash();
    assert_eq!(hash, PODS_ON_NODES_WITH_INPUTS, "{hash:#018x}");
    assert_eq!(head.ops, HEAD_OPS);
}

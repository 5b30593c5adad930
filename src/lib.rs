//! kubeglass: a whole Kubernetes cluster as a deterministic simulation.
//!
//! The layers, bottom up (a module uses only layers below it); see ARCHITECTURE.md.
//! 1. [`api`] and [`yaml`]: object types, quantities, selectors, Status errors, text formats.
//! 2. [`kernel`]: virtual clock, event queue, seeded RNG, the trace.
//! 3. [`store`]: MVCC revisions and watch; [`network`]: the network primitives (the
//!    iptables engine).
//! 4. [`apiserver`]: the request stages over the store.
//! 5. [`controllers`], [`scheduler`] and [`kubelet`]: reconcile loops, the scheduler and
//!    the node agents, side by side.
//! 6. [`cluster`] and [`scenario`]: the composition root and the scenario contract.
//! 7. [`kubectl`]: a client over the API server.
//! 8. [`host`] (the worker's session, no web dependency) and [`protocol`] (every
//!    message between page and worker); the web worker and UI (feature `web`), and
//!    the three mains.

pub mod api;
pub mod apiserver;
pub mod bench;
pub mod cluster;
pub mod cni;
pub mod component;
pub mod controllers;
pub mod host;
pub mod ingress;
pub mod kernel;
pub mod kubectl;
pub mod kubelet;
pub mod kubeproxy;
pub mod network;
pub mod packet_trace;
pub mod protocol;
pub mod scenario;
pub mod scheduler;
pub mod store;
#[cfg(feature = "web")]
pub mod web;
pub mod yaml;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

//! Layer 8, the worker host: what the web worker runs, with no web dependency, so
//! that it builds and is tested natively (the web worker in `web::worker` only
//! passes messages and the wall clock in and posts what comes out).
//!
//! - [`sim`]: a cluster advanced one operation at a time in a canonical order, so
//!   that the inputs log replays exactly.
//! - [`session`]: the page's session: inputs log, play in slices, fork, replay,
//!   frames of deltas, answers.
//! - [`map`]: the cluster map the page draws, kept as deltas and aggregates.
//! - [`sched`]: the scheduling view (queue, filter matrix, score table) and the
//!   comparison of two scheduler configurations over the same inputs.
//! - [`ctl`]: the controllers' views (control loops and their reconciles, a
//!   Deployment's rollout, a node's failure), built from the trace and the store's history.
//! - [`faults`]: the inspector's fault and node buttons as `fault` steps and
//!   kubectl commands.
//! - [`examples`]: the example scenarios, compiled in.
//! - [`net`]: the network view (trace ends, a node's iptables tables, the packet
//!   tracer's answer as typed hops) and the iptables-restore editor's step.

pub mod ctl;
pub mod examples;
pub mod faults;
pub mod map;
pub mod net;
pub mod sched;
pub mod session;
pub mod sim;

pub use session::Session;
pub use sim::Sim;

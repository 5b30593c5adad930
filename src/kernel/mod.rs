//! Layer 2, the kernel: virtual clock, event queue, the one seeded RNG and the trace.
//! Nothing here knows a component; every component writes to the trace.

pub mod clock;
pub mod queue;
pub mod rng;
pub mod trace;

pub use clock::{format_duration, parse_duration, Clock, Nanos, NANOS_PER_MILLI, NANOS_PER_SEC};
pub use queue::EventQueue;
pub use rng::Rng;
pub use trace::{ObjRef, Stage, Trace, TraceDetail, TraceEntry};

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

/// The kernel's state, lent to every component when it acts.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub clock: Clock,
    pub rng: Rng,
    pub trace: Trace,
    pub seed: u64,
}

impl Kernel {
    pub fn new(seed: u64, trace_capacity: usize) -> Kernel {
        Kernel {
            clock: Clock::default(),
            rng: Rng::new(seed),
            trace: Trace::with_capacity(trace_capacity),
            seed,
        }
    }

    pub fn now(&self) -> Nanos {
        self.clock.now()
    }
}

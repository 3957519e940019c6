//! Where the server is in its life, as `/readyz` reports it: starting
//! (until the application is built and the denylist has answered once),
//! ready, or draining (from the shutdown signal on: load balancers stop
//! sending new requests while the ones in flight finish).

use std::sync::atomic::{AtomicU8, Ordering};

/// A phase of the server's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Starting,
    Ready,
    Draining,
}

impl Phase {
    /// The word `/readyz` answers while not ready.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Ready => "ready",
            Phase::Draining => "draining",
        }
    }
}

/// The current phase, shared by the handlers and the run loop.
#[derive(Debug)]
pub struct Lifecycle(AtomicU8);

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle(AtomicU8::new(Phase::Starting as u8))
    }
}

impl Lifecycle {
    pub fn phase(&self) -> Phase {
        match self.0.load(Ordering::SeqCst) {
            0 => Phase::Starting,
            1 => Phase::Ready,
            _ => Phase::Draining,
        }
    }

    /// Starting becomes ready; draining stays draining.
    pub fn ready(&self) {
        let _ = self.0.compare_exchange(
            Phase::Starting as u8,
            Phase::Ready as u8,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// From now on, not ready.
    pub fn drain(&self) {
        self.0.store(Phase::Draining as u8, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_then_ready_then_draining_for_good() {
        let life = Lifecycle::default();
        assert_eq!(life.phase(), Phase::Starting);
        life.ready();
        assert_eq!(life.phase(), Phase::Ready);
        life.drain();
        life.ready();
        assert_eq!(life.phase(), Phase::Draining, "a draining server never becomes ready again");
    }
}

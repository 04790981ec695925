//! Whether this node should still receive traffic: it stops being ready as soon as it is asked to
//! shut down, so that a balancer sends new requests elsewhere before the node stops listening.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The node's readiness switch; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    draining: Arc<AtomicBool>,
}

impl Lifecycle {
    /// Marks the node as shutting down: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Returns whether the node is shutting down.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

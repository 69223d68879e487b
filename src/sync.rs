//! The one place that chooses between loom's model-checked primitives and the real ones.
//!
//! Owns: the re-exports of atomics, `Arc`, `Mutex`, `Condvar` and `thread` used by the
//! engine, the server and the client. Under `--cfg loom` they come from `loom`, so the loom models in `tests/loom_*.rs`
//! explore every interleaving of the engine's own code; otherwise they are `std` and
//! `parking_lot`.
//!
//! Must never: grow logic of its own. Nothing else in the crate imports atomics, locks or
//! threads directly; everything goes through this module so that loom sees every
//! synchronisation point.

#[cfg(loom)]
mod imp {
    pub use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    pub use loom::thread;

    /// A mutex with `parking_lot`'s poison-free API, backed by loom's mutex.
    #[derive(Debug)]
    pub struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Mutex::new(T::default())
        }
    }

    /// The guard returned by [`Mutex::lock`].
    pub type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        /// Creates a new mutex holding `value`.
        pub fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        /// Locks the mutex; loom mutexes never poison.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().expect("loom mutexes are never poisoned")
        }
    }

    /// A condition variable with `parking_lot`'s API, backed by loom's.
    #[derive(Debug)]
    pub struct Condvar(loom::sync::Condvar);

    impl Condvar {
        /// Creates a condition variable.
        pub fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        /// Wakes every waiter.
        pub fn notify_all(&self) {
            self.0.notify_all();
        }

        /// Waits for a notification. Loom has no notion of time, so a timed wait is a plain
        /// wait that reports no timeout; loom models never rely on timeouts.
        pub fn wait_for<'a, T>(
            &self,
            guard: &mut Option<MutexGuard<'a, T>>,
            _timeout: std::time::Duration,
        ) {
            let g = guard.take().expect("guard present");
            *guard = Some(self.0.wait(g).expect("loom mutexes are never poisoned"));
        }
    }

    impl Default for Condvar {
        fn default() -> Self {
            Self::new()
        }
    }
}

#[cfg(not(loom))]
mod imp {
    pub use parking_lot::{Mutex, MutexGuard};
    pub use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
    // The server's (never built under loom).
    #[cfg(feature = "server")]
    pub use std::sync::atomic::{AtomicI64, AtomicUsize};
    // Only the client shares values through `Arc`, and loom builds leave the client out.
    #[cfg(feature = "client")]
    pub use std::sync::Arc;
    pub use std::thread;

    /// A condition variable with one timed-wait shape shared with the loom build.
    #[derive(Debug, Default)]
    pub struct Condvar(parking_lot::Condvar);

    impl Condvar {
        /// Creates a condition variable.
        pub fn new() -> Self {
            Condvar(parking_lot::Condvar::new())
        }

        /// Wakes every waiter.
        pub fn notify_all(&self) {
            self.0.notify_all();
        }

        /// Waits for a notification or until `timeout` passes (spurious wake-ups possible:
        /// callers re-check their condition).
        pub fn wait_for<T>(
            &self,
            guard: &mut Option<MutexGuard<'_, T>>,
            timeout: std::time::Duration,
        ) {
            let g = guard.as_mut().expect("guard present");
            let _ = self.0.wait_for(g, timeout);
        }
    }
}

pub(crate) use imp::*;

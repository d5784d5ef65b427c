//! collector: a concurrent HTTP crawler and data collector.

pub mod extract;

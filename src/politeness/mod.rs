//! Politeness, keyed by origin (`scheme://host:port`): robots.txt, request
//! spacing and rate, per-origin concurrency, and backing off when a server
//! asks us to.

pub mod limiter;
pub mod origin;
pub mod robots;
pub mod robots_path;
pub mod robots_share;

pub use limiter::{LimiterConfig, OriginLimiter};
pub use origin::origin_key;
pub use robots::{ROBOTS_MAX_BYTES, RobotsCache, RobotsResponse, RobotsRules};
pub use robots_share::RobotsStore;

//! The crawl wing: settings from flags and files, seeds, scope, visiting
//! one URL (`visit`), wiring the stages (`run`), a resumable crawl's state
//! (`state`) and its incremental recrawls (`recrawl`), a worker of a shared crawl (`shared`), progress, and the two
//! commands built on a crawl's visit: `collector fetch` (`preview`) and
//! `collector demo`.

pub mod demo;
pub mod metrics;
pub mod options;
pub mod preview;
pub mod progress;
pub mod recrawl;
pub mod run;
pub mod scope;
pub mod seeds;
pub mod settings;
pub mod shared;
pub mod state;
pub mod visit;

pub use run::run;

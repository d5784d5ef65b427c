//! Fixture sites for the example job configs in `config/`.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixtures"
)]

pub mod books;
pub mod news;

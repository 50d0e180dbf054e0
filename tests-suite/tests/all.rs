//! The one integration-test binary: every crate's end-to-end tests, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
#[allow(dead_code)] // shared helpers; not every area uses every one
mod support;

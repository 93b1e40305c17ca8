//! Whole-suite checks, one test binary (`cargo test -p suite-tests`).

#[path = "suite/contract.rs"]
mod contract;
#[path = "suite/install.rs"]
mod install;
#[path = "suite/registry.rs"]
mod registry;

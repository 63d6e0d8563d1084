//! `signet server`: the signing service (work in progress).

pub mod cli;

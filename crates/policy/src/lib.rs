//! signet-policy (being written).

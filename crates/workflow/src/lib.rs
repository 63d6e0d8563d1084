//! signet-workflow (being written).

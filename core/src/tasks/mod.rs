//! Tasks a session runs (being written).

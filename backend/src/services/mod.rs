//! Services: the operations that the UI's server functions and the HTTP API both call.

pub mod instance;

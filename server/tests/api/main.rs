//! The server's integration tests, one binary (one link of the whole application instead
//! of one per file): the real server on port 0 with a fresh database, in this process or
//! as the `avatar-studio` binary, driven over HTTP and WebSocket as a client would.

mod common;

mod accounts;
mod admission;
mod architecture;
mod binary;
mod character_sheet;
mod compare;
mod edits;
mod generations;
mod http;
mod identities;
mod library;
mod maintenance;
mod operators;
mod pages;
mod provider_keys;
mod providers;
mod proxies;
mod quotas;
mod realtime;
mod scopes;
mod spend;

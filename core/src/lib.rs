//! The agent engine. Front-ends and embedding programs drive a session through [`codex::Codex`]:
//! they submit [`codex_protocol::protocol::Op`]s and read [`codex_protocol::protocol::Event`]s,
//! nothing else.

pub mod apply_patch;
pub mod auth;
pub mod client;
pub mod codex;
mod compact;
pub mod config;
pub mod custom_prompts;
mod environment_context;
pub mod error;
pub mod exec;
mod instructions;
mod mcp_requests;
pub mod message_history;
mod model_family;
pub mod model_provider_info;
mod notify;
mod project_doc;
pub mod review;
mod safety;
pub mod sandbox;
mod tasks;
mod tools;
mod turn;

pub use codex::Codex;
pub use codex::CodexSpawnOk;
pub use codex::InitialHistory;
pub use codex::SpawnOptions;
/// Session-file lookups for front-ends (listing, finding by id); recording stays inside the engine.
pub use codex_rollout as rollout;
pub use config::Config;
pub use config::ConfigOverrides;
pub use error::CodexErr;

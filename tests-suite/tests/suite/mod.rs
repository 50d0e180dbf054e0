mod agent_loop;
mod approvals;
mod compaction;
mod config;
mod exec_cli;
mod model_stream;
mod retries;
mod rollout_resume;

mod config;
mod exec_cli;
mod model_stream;
mod retries;

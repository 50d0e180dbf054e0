//! `view_image`: attach a local image to the conversation for the model's next request.

use codex_protocol::models::InputItem;
use serde::Deserialize;

use super::ToolInvocation;
use super::ToolOutput;
use super::parse_arguments;
use crate::turn::response_item_from_input;

#[derive(Deserialize)]
struct Args {
    path: String,
}

pub(super) fn handle(inv: &ToolInvocation, arguments: &str) -> ToolOutput {
    let args = match parse_arguments::<Args>(arguments) {
        Ok(args) => args,
        Err(err) => return err,
    };
    let path = inv.resolve_path(Some(&args.path));
    if !path.is_file() {
        return ToolOutput::failure(format!("image path `{}` is not a file", path.display()));
    }
    let item = response_item_from_input(vec![InputItem::LocalImage { path: path.clone() }]);
    inv.sess.queue_pending_input(item);
    ToolOutput::success(format!("attached local image path: {}", path.display()))
}

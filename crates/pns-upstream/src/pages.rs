use pns_core::result_code::ResultCode;
use pns_core::wire::{BindingInfo, QueryParams};

use crate::{Upstream, UpstreamError};

/// The largest page the platform serves.
pub const PAGE_SIZE: u32 = 100;

/// X holds at most 5,000 bindings (50 pages); more pages than this means the paging is not advancing.
const MAX_PAGES: u32 = 60;

/// Every binding on X, walking the pages in order.
///
/// Not a snapshot: bindings made or removed while walking can shift entries between pages, so callers
/// reconciling state should treat the result as a hint and tolerate duplicates or misses.
pub async fn query_all_on_x(
    up: &dyn Upstream,
    relation_num: &str,
) -> Result<Vec<BindingInfo>, UpstreamError> {
    let mut all: Vec<BindingInfo> = Vec::new();
    for page_index in 1..=MAX_PAGES {
        let params = QueryParams {
            subscription_id: None,
            relation_num: Some(relation_num.to_owned()),
            caller_num: None,
            callee_num: None,
            page_index: Some(page_index),
            page_size: Some(PAGE_SIZE),
        };
        let page = match up.query(&params).await {
            Ok(page) => page,
            // The platform may answer "no record" for an X without bindings, or for a page past the end.
            Err(UpstreamError::Rejected {
                code: ResultCode::RecordNotFound,
                ..
            }) => return Ok(all),
            Err(err) => return Err(err),
        };
        let got = page.relation_num_list.len();
        all.extend(page.relation_num_list);
        // Trust totalCount when present: a short page alone could be the platform's own page size.
        let done = match page.total_count {
            Some(total) => got == 0 || all.len() as u64 >= total,
            None => got < PAGE_SIZE as usize,
        };
        if done {
            return Ok(all);
        }
    }
    Err(UpstreamError::Decode(format!(
        "more than {MAX_PAGES} pages of bindings on one X: the platform is not paging"
    )))
}

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

/// The one binding with this subscriptionId, or `None` when the platform says it has none. Unlike a
/// page of [`query_all_on_x`], the answer does not depend on what else changes on X meanwhile, so it
/// is what confirms that a binding is really gone.
pub async fn query_subscription(
    up: &dyn Upstream,
    subscription_id: &str,
) -> Result<Option<BindingInfo>, UpstreamError> {
    let params = QueryParams {
        subscription_id: Some(subscription_id.to_owned()),
        page_index: Some(1),
        page_size: Some(PAGE_SIZE),
        ..QueryParams::default()
    };
    let page = match up.query(&params).await {
        Ok(page) => page,
        Err(UpstreamError::Rejected {
            code: ResultCode::RecordNotFound,
            ..
        }) => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut list = page.relation_num_list;
    match list
        .iter()
        .position(|b| b.subscription_id == subscription_id)
    {
        Some(i) => Ok(Some(list.swap_remove(i))),
        None if list.is_empty() => Ok(None),
        // Bindings, but not the one asked about: no evidence either way.
        None => Err(UpstreamError::Decode(format!(
            "a query by subscriptionId {subscription_id} answered other bindings"
        ))),
    }
}

/// Whether X holds a binding between these two parties (a bind whose answer was lost has no
/// subscriptionId yet): narrowed by both numbers, so one short answer.
pub async fn query_parties_on_x(
    up: &dyn Upstream,
    relation_num: &str,
    caller_num: &str,
    callee_num: &str,
) -> Result<Option<BindingInfo>, UpstreamError> {
    let params = QueryParams {
        relation_num: Some(relation_num.to_owned()),
        caller_num: Some(caller_num.to_owned()),
        callee_num: Some(callee_num.to_owned()),
        page_index: Some(1),
        page_size: Some(PAGE_SIZE),
        ..QueryParams::default()
    };
    let page = match up.query(&params).await {
        Ok(page) => page,
        Err(UpstreamError::Rejected {
            code: ResultCode::RecordNotFound,
            ..
        }) => return Ok(None),
        Err(err) => return Err(err),
    };
    let seen = page.relation_num_list.len() as u64;
    let found = page.relation_num_list.into_iter().find(|b| {
        b.relation_num == relation_num && b.caller_num == caller_num && b.callee_num == callee_num
    });
    match found {
        Some(info) => Ok(Some(info)),
        // The platform did not narrow the answer and the pair may be on a later page.
        None if page.total_count.is_some_and(|total| total > seen) => Err(UpstreamError::Decode(
            "a query by both parties answered more than one page".into(),
        )),
        None => Ok(None),
    }
}

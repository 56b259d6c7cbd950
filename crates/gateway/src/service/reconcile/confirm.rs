//! A second look before a row is ended. One paged walk of X is not a snapshot: bindings removed while
//! it runs make later pages slide, and the live bindings that slid past are never seen. So a row the
//! walk did not find is asked about on its own (active: by subscriptionId; pending: by its parties on
//! X) and ended only when the platform confirms it has no such binding.

use pns_core::result_code::ResultCode;
use pns_core::wire::BindingInfo;
use pns_upstream::Upstream;

use crate::db::entity::bindings;

pub enum Verdict {
    /// The platform has no such binding.
    Gone,
    /// It does: the walk missed it.
    Present(BindingInfo),
    /// No answer (an error, or the platform asked us to back off): the row is not judged this run.
    Unknown(String),
}

pub struct Confirmer<'a> {
    upstream: &'a dyn Upstream,
    /// Set by a flow-control answer: the remaining rows wait for the next run.
    throttled: bool,
}

impl<'a> Confirmer<'a> {
    pub fn new(upstream: &'a dyn Upstream) -> Self {
        Self {
            upstream,
            throttled: false,
        }
    }

    /// An active row, by its subscriptionId.
    pub async fn active(&mut self, row: &bindings::Model) -> Verdict {
        let Some(sub) = row.subscription_id.as_deref() else {
            return Verdict::Unknown("the row has no subscriptionId".into());
        };
        if self.throttled {
            return throttled();
        }
        let answer = pns_upstream::query_subscription(self.upstream, sub).await;
        self.verdict(answer)
    }

    /// A pending row, by its parties on its X. A row without an X (the platform was to pick one from
    /// the area) cannot be asked about: the walk of every number in use is all there is.
    pub async fn pending(&mut self, row: &bindings::Model) -> Verdict {
        let Some(x) = row.relation_num.as_deref() else {
            return Verdict::Gone;
        };
        if self.throttled {
            return throttled();
        }
        let answer =
            pns_upstream::query_parties_on_x(self.upstream, x, &row.caller_num, &row.callee_num)
                .await;
        self.verdict(answer)
    }

    fn verdict(
        &mut self,
        answer: Result<Option<BindingInfo>, pns_upstream::UpstreamError>,
    ) -> Verdict {
        match answer {
            Ok(None) => Verdict::Gone,
            Ok(Some(info)) => Verdict::Present(info),
            Err(e) => {
                self.throttled |= matches!(e.result_code(), Some(ResultCode::FlowControl));
                Verdict::Unknown(e.to_string())
            }
        }
    }
}

fn throttled() -> Verdict {
    Verdict::Unknown("the platform asked to back off; not asked this run".into())
}

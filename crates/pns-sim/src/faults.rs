//! Failures on demand for the AXB API, consumed request by request.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::state::lock;

/// An AXB operation a fault can be limited to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Op {
    Bind,
    Modify,
    Unbind,
    Query,
    RecordUrl,
    CallStop,
}

/// One injected failure. Control API form (JSON): `{"kind":"resultCode","code":"1010010","httpStatus":403,
/// "times":2,"operation":"bind"}`, `{"kind":"latency","millis":300,"times":5}`, `{"kind":"dropConnection",
/// "times":1}`, `{"kind":"applyThenDrop","times":1}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Fault {
    /// Answer the next `times` requests (of `operation`, or any) with this resultcode, without acting.
    ResultCode {
        code: String,
        /// 0 = the status the platform uses for that code (403 auth, 500 internal, else 400).
        http_status: u16,
        times: u32,
        #[serde(default)]
        operation: Option<Op>,
    },
    /// Delay the next `times` requests; they are then served normally (or hit another fault).
    Latency { millis: u64, times: u32 },
    /// Close the connection of the next `times` requests without acting or answering.
    DropConnection { times: u32 },
    /// Perform the next `times` requests, then close the connection instead of answering: "upstream
    /// succeeded but the answer was lost".
    ApplyThenDrop { times: u32 },
}

impl Fault {
    fn times_mut(&mut self) -> &mut u32 {
        match self {
            Fault::ResultCode { times, .. }
            | Fault::Latency { times, .. }
            | Fault::DropConnection { times }
            | Fault::ApplyThenDrop { times } => times,
        }
    }
}

/// What the next request must suffer. `latency` combines with at most one of the others.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    pub latency: Option<Duration>,
    pub result_code: Option<(String, u16)>,
    pub drop_connection: bool,
    pub apply_then_drop: bool,
}

#[derive(Default)]
pub(crate) struct FaultBook {
    // Lets the hot path skip the lock when nothing is injected (the benchmark case).
    armed: AtomicBool,
    faults: Mutex<Vec<Fault>>,
}

impl FaultBook {
    pub fn inject(&self, fault: Fault) {
        let mut faults = lock(&self.faults);
        faults.push(fault);
        faults.retain_mut(|f| *f.times_mut() > 0);
        self.armed.store(!faults.is_empty(), Ordering::Release);
    }

    pub fn clear(&self) {
        lock(&self.faults).clear();
        self.armed.store(false, Ordering::Release);
    }

    pub fn pending(&self) -> Vec<Fault> {
        lock(&self.faults).clone()
    }

    /// Takes what applies to one request of `op`, in injection order: a latency, then the first of a
    /// dropped connection, a matching resultcode, or apply-then-drop.
    pub fn take(&self, op: Op) -> FaultPlan {
        let mut plan = FaultPlan::default();
        if !self.armed.load(Ordering::Acquire) {
            return plan;
        }
        let mut faults = lock(&self.faults);
        let mut decided = false;
        for f in faults.iter_mut() {
            match f {
                Fault::Latency { millis, times } if plan.latency.is_none() => {
                    plan.latency = Some(Duration::from_millis(*millis));
                    *times -= 1;
                }
                Fault::DropConnection { times } if !decided => {
                    plan.drop_connection = true;
                    decided = true;
                    *times -= 1;
                }
                Fault::ResultCode {
                    code,
                    http_status,
                    times,
                    operation,
                } if !decided && operation.is_none_or(|o| o == op) => {
                    plan.result_code = Some((code.clone(), *http_status));
                    decided = true;
                    *times -= 1;
                }
                Fault::ApplyThenDrop { times } if !decided => {
                    plan.apply_then_drop = true;
                    decided = true;
                    *times -= 1;
                }
                _ => {}
            }
        }
        faults.retain_mut(|f| *f.times_mut() > 0);
        self.armed.store(!faults.is_empty(), Ordering::Release);
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_code_counts_down_per_operation() {
        let book = FaultBook::default();
        book.inject(Fault::ResultCode {
            code: "1010010".into(),
            http_status: 403,
            times: 2,
            operation: Some(Op::Bind),
        });
        assert_eq!(book.take(Op::Query), FaultPlan::default());
        assert!(book.take(Op::Bind).result_code.is_some());
        assert!(book.take(Op::Bind).result_code.is_some());
        assert_eq!(book.take(Op::Bind), FaultPlan::default());
    }

    #[test]
    fn latency_combines_with_one_failure() {
        let book = FaultBook::default();
        book.inject(Fault::Latency {
            millis: 5,
            times: 1,
        });
        book.inject(Fault::DropConnection { times: 1 });
        book.inject(Fault::ApplyThenDrop { times: 1 });
        let p = book.take(Op::Unbind);
        assert_eq!(p.latency, Some(Duration::from_millis(5)));
        assert!(p.drop_connection && !p.apply_then_drop);
        assert!(book.take(Op::Unbind).apply_then_drop);
        assert_eq!(book.pending(), vec![]);
    }

    #[test]
    fn control_api_json_shape() {
        let f: Fault = serde_json::from_str(
            r#"{"kind":"resultCode","code":"1010010","httpStatus":403,"times":1,"operation":"bind"}"#,
        )
        .unwrap();
        assert!(matches!(
            f,
            Fault::ResultCode {
                operation: Some(Op::Bind),
                ..
            }
        ));
        let f: Fault = serde_json::from_str(r#"{"kind":"applyThenDrop","times":1}"#).unwrap();
        assert_eq!(f, Fault::ApplyThenDrop { times: 1 });
    }
}

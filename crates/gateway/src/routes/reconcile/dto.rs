//! What the reconcile and orphan endpoints answer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::entity::{orphan_bindings, reconcile_findings, reconcile_runs};

/// Tallies of one run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    /// Pending rows the platform had: now active.
    pub adopted: i32,
    /// Pending rows the platform did not have: now failed.
    pub failed_pending: i32,
    /// Active rows the platform no longer had: ended with reason `missing_upstream`.
    pub missing_upstream: i32,
    /// Platform bindings this gateway does not know.
    pub orphans: i32,
    /// Rows whose fields were corrected from the platform.
    pub corrected: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingOut {
    /// adopted | failed_pending | missing_upstream | expired | orphan | corrected |
    /// correction_conflict | query_failed
    pub category: String,
    pub binding_id: Option<Uuid>,
    pub subscription_id: Option<String>,
    pub relation_num: Option<String>,
    /// Category-specific: the corrected fields (`{field: {local, upstream}}`), an orphan's numbers, ...
    pub detail: serde_json::Value,
}

/// A drift report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileRunOut {
    pub id: Uuid,
    /// scheduled | manual
    pub trigger: String,
    /// running | done | failed
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub numbers_checked: i32,
    pub counts: RunCounts,
    /// Why the run failed, or what it could not check.
    pub error: Option<String>,
    /// Findings per category (single-run view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<BTreeMap<String, u64>>,
    /// Single-run view only: the first page of findings (`GET .../findings` pages through all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingOut>>,
    /// Single-run view only: pass as `cursor` to `GET /v1/admin/reconcile/{id}/findings` for the
    /// findings after the first page; absent when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings_next_cursor: Option<String>,
}

impl From<reconcile_runs::Model> for ReconcileRunOut {
    fn from(m: reconcile_runs::Model) -> Self {
        Self {
            id: m.id,
            trigger: m.trigger,
            status: m.status,
            started_at: m.started_at,
            finished_at: m.finished_at,
            numbers_checked: m.numbers_checked,
            counts: RunCounts {
                adopted: m.adopted,
                failed_pending: m.failed_pending,
                missing_upstream: m.missing_upstream,
                orphans: m.orphans,
                corrected: m.corrected,
            },
            error: m.error,
            categories: None,
            findings: None,
            findings_next_cursor: None,
        }
    }
}

impl From<reconcile_findings::Model> for FindingOut {
    fn from(m: reconcile_findings::Model) -> Self {
        Self {
            category: m.category,
            binding_id: m.binding_id,
            subscription_id: m.subscription_id,
            relation_num: m.relation_num,
            detail: m.detail,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileRunList {
    pub items: Vec<ReconcileRunOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingList {
    pub items: Vec<FindingOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanOut {
    pub subscription_id: String,
    pub relation_num: String,
    pub caller_num: String,
    pub callee_num: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub last_run_id: Option<Uuid>,
}

impl From<orphan_bindings::Model> for OrphanOut {
    fn from(m: orphan_bindings::Model) -> Self {
        Self {
            subscription_id: m.subscription_id,
            relation_num: m.relation_num,
            caller_num: m.caller_num,
            callee_num: m.callee_num,
            first_seen_at: m.first_seen_at,
            last_seen_at: m.last_seen_at,
            last_run_id: m.last_run_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrphanList {
    pub items: Vec<OrphanOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

//! `/v1/sms`: texts through X and the routing decision taken for each.

use actix_web::{get, web};

use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ErrorBody};
use crate::routes::calls::dto::{SmsFilter, SmsPage};
use crate::routes::calls::history;
use crate::service::page::PageRequest;
use crate::service::sms::{self, SmsQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_sms);
}

/// Texts of the calling app (admin: all, including texts to X from strangers), newest first.
#[utoipa::path(
    get, path = "/v1/sms", tag = "sms",
    params(SmsFilter),
    responses(
        (status = 200, body = SmsPage),
        (status = 404, description = "bindingId unknown or another app's", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/sms")]
pub async fn list_sms(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<SmsFilter>,
) -> Result<web::Json<SmsPage>, ApiError> {
    principal.require(Scope::BindingsRead)?;
    let page = PageRequest::new(filter.limit, filter.cursor.as_deref())?;
    let query = SmsQuery {
        history: history(
            filter.binding_id,
            filter.number.as_deref(),
            filter.from,
            filter.to,
        )?,
        decision: filter.decision.clone(),
    };
    let found = sms::list(&state.db, &principal, query, &page).await?;
    Ok(web::Json(SmsPage {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}

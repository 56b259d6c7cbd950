//! `/v1/numbers`: the X-number pool (admin scope).

pub mod dto;

use actix_web::{HttpResponse, delete, get, patch, post, web};

use self::dto::{ImportOut, NumberFilter, NumberIn, NumberList, NumberOut, NumberPatch, NumbersIn};
use crate::auth::{Principal, Scope};
use crate::domain::rules;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::routes::bindings::parse::phone;
use crate::service::page::PageRequest;
use crate::service::pool::admin::{self, MAX_CAPACITY, NewNumber, NumberChanges};

fn area_code(field: &str, raw: &str) -> Result<String, ApiError> {
    rules::area_code(raw).map_err(|reason| ApiError::validation(field, reason))?;
    Ok(raw.to_owned())
}

fn capacity(field: &str, raw: u32) -> Result<i32, ApiError> {
    match i32::try_from(raw) {
        Ok(c) if (1..=MAX_CAPACITY).contains(&c) => Ok(c),
        _ => Err(ApiError::validation(
            field,
            format!("must be 1..={MAX_CAPACITY}"),
        )),
    }
}

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(import_numbers)
        .service(list_numbers)
        .service(patch_number)
        .service(delete_number);
}

/// Most numbers in one import call.
const MAX_IMPORT: usize = 10_000;

fn new_number(field: &str, n: NumberIn) -> Result<NewNumber, ApiError> {
    Ok(NewNumber {
        number: phone(&format!("{field}.number"), &n.number)?.into_string(),
        area_code: area_code(&format!("{field}.areaCode"), &n.area_code)?,
        capacity: capacity(
            &format!("{field}.capacity"),
            n.capacity.unwrap_or(MAX_CAPACITY as u32),
        )?,
        reserved: n.reserved.unwrap_or(false),
    })
}

/// Add X numbers to the pool: one object, or `{"numbers": [...]}` for many.
///
/// Numbers already in the pool are left unchanged and listed under `skipped` (a single number that
/// already exists is a 409). One call is bounded by the API body limit (`PNS_BODY_LIMIT_BYTES`,
/// about a thousand numbers by default).
#[utoipa::path(
    post, path = "/v1/numbers", tag = "numbers",
    request_body = NumbersIn,
    responses(
        (status = 201, body = ImportOut),
        (status = 409, description = "The number is already in the pool", body = ErrorBody),
        (status = 413, description = "Body over PNS_BODY_LIMIT_BYTES: import in several calls", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/numbers")]
pub async fn import_numbers(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<NumbersIn>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Admin)?;
    let (single, numbers) = match body.into_inner() {
        NumbersIn::One(n) => (true, vec![new_number("body", n)?]),
        NumbersIn::Many(bulk) => {
            if bulk.numbers.is_empty() || bulk.numbers.len() > MAX_IMPORT {
                return Err(ApiError::validation(
                    "numbers",
                    format!("must hold 1..={MAX_IMPORT} numbers"),
                ));
            }
            let numbers = bulk
                .numbers
                .into_iter()
                .enumerate()
                .map(|(i, n)| new_number(&format!("numbers[{i}]"), n))
                .collect::<Result<Vec<_>, _>>()?;
            (false, numbers)
        }
    };
    let (created, skipped) = admin::import(&state.db, numbers).await?;
    if single && created.is_empty() {
        return Err(ApiError::conflict(
            ErrorCode::Conflict,
            "this number is already in the pool",
        ));
    }
    Ok(HttpResponse::Created().json(ImportOut {
        created: created.into_iter().map(Into::into).collect(),
        skipped,
    }))
}

/// The pool: every X with its bindings in use, capacity, platform status and reserved flag.
#[utoipa::path(
    get, path = "/v1/numbers", tag = "numbers",
    params(NumberFilter),
    responses((status = 200, body = NumberList), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/v1/numbers")]
pub async fn list_numbers(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<NumberFilter>,
) -> Result<web::Json<NumberList>, ApiError> {
    principal.require(Scope::Admin)?;
    let f = filter.into_inner();
    let filter = admin::NumberFilter {
        area_code: f.area_code,
        status: f.status,
        reserved: f.reserved,
    };
    let page = PageRequest::new(f.limit, f.cursor.as_deref())?;
    let found = admin::list(&state.db, &filter, &page).await?;
    Ok(web::Json(NumberList {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next_cursor,
    }))
}

fn path_number(raw: &str) -> Result<String, ApiError> {
    pns_core::phone::PhoneNumber::parse(raw)
        .map(|p| p.into_string())
        .map_err(|_| ApiError::not_found("X number"))
}

/// Reserve or release a number, change its capacity or area, or clear (`usable: true`) the mark the
/// pool sets on a number the platform refused as not this app's.
#[utoipa::path(
    patch, path = "/v1/numbers/{number}", tag = "numbers",
    params(("number" = String, Path, description = "The X number, E.164 (`+` may be sent as `%2B`)")),
    request_body = NumberPatch,
    responses(
        (status = 200, body = NumberOut),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/v1/numbers/{number}")]
pub async fn patch_number(
    state: web::Data<AppState>,
    principal: Principal,
    number: web::Path<String>,
    body: web::Json<NumberPatch>,
) -> Result<web::Json<NumberOut>, ApiError> {
    principal.require(Scope::Admin)?;
    let number = path_number(&number)?;
    let patch = body.into_inner();
    let changes = NumberChanges {
        reserved: patch.reserved,
        usable: patch.usable,
        capacity: patch
            .capacity
            .map(|c| capacity("capacity", c))
            .transpose()?,
        area_code: patch
            .area_code
            .as_deref()
            .map(|a| area_code("areaCode", a))
            .transpose()?,
    };
    if changes.reserved.is_none()
        && changes.usable.is_none()
        && changes.capacity.is_none()
        && changes.area_code.is_none()
    {
        return Err(ApiError::validation("body", "nothing to change"));
    }
    Ok(web::Json(
        admin::change(&state.db, &number, changes).await?.into(),
    ))
}

/// Remove a number from the pool. Refused (409) while it holds live bindings.
#[utoipa::path(
    delete, path = "/v1/numbers/{number}", tag = "numbers",
    params(("number" = String, Path, description = "The X number, E.164")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The number still holds active bindings", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/numbers/{number}")]
pub async fn delete_number(
    state: web::Data<AppState>,
    principal: Principal,
    number: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Admin)?;
    let number = path_number(&number)?;
    admin::remove(&state.db, &number).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! Keyset pagination, written once for every list: rows ordered by (time, key), a page of `limit`
//! rows plus an opaque cursor naming the last row, stable under concurrent inserts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{IntoCondition, SimpleExpr};

use super::error::QueryError;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Select, Value,
};

pub const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;
const NOT_A_CURSOR: &str = "not a cursor returned by this API";

/// A page request refused: which parameter and why.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PageError {
    pub field: &'static str,
    pub reason: String,
}

/// Where the next page starts: the (time, key) of the last row of the previous one.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub key: String,
}

impl Cursor {
    pub fn new(at: DateTime<Utc>, key: impl ToString) -> Self {
        Self {
            at,
            key: key.to_string(),
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.at.to_rfc3339(), self.key))
    }

    pub fn decode(raw: &str) -> Result<Self, PageError> {
        let bad = || PageError {
            field: "cursor",
            reason: NOT_A_CURSOR.into(),
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, key) = text.split_once('|').ok_or_else(bad)?;
        Ok(Self {
            at: DateTime::parse_from_rfc3339(at)
                .map_err(|_| bad())?
                .with_timezone(&Utc),
            key: key.to_owned(),
        })
    }
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// `limit` 1..=200 (default 50) and a cursor this API returned.
    pub fn new(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(n) if (1..=MAX_PAGE).contains(&n) => n,
            Some(_) => {
                return Err(PageError {
                    field: "limit",
                    reason: format!("must be 1..={MAX_PAGE}"),
                });
            }
        };
        Ok(Self {
            limit: u64::from(limit),
            after: cursor.map(Cursor::decode).transpose()?,
        })
    }
}

/// One page of rows and the cursor of the next (None on the last page).
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// How a list is ordered: its (time, key) columns, the direction, and how a cursor's key becomes a
/// value of the key column (a key that does not parse is refused as a bad cursor).
pub struct Keyset<C, F> {
    pub time: C,
    pub key: C,
    pub order: Order,
    pub key_value: F,
}

impl<C, F> Keyset<C, F>
where
    C: ColumnTrait,
    F: Fn(&str) -> Option<Value>,
{
    /// Fetches the page of `query` that `page` asks for; `cursor_of` names a row's (time, key).
    pub async fn fetch<E, Conn>(
        &self,
        conn: &Conn,
        mut query: Select<E>,
        page: &PageRequest,
        cursor_of: impl Fn(&E::Model) -> Cursor,
    ) -> Result<Page<E::Model>, QueryError>
    where
        E: EntityTrait<Column = C>,
        Conn: ConnectionTrait,
    {
        if let Some(after) = &page.after {
            let Some(key) = (self.key_value)(&after.key) else {
                return Err(QueryError::invalid("cursor", NOT_A_CURSOR));
            };
            query = query.filter(self.beyond(after.at, key));
        }
        let mut rows = query
            .order_by(self.time, self.order.clone())
            .order_by(self.key, self.order.clone())
            .limit(page.limit + 1)
            .all(conn)
            .await?;
        let next_cursor = if rows.len() as u64 > page.limit {
            rows.truncate(page.limit as usize);
            rows.last().map(|row| cursor_of(row).encode())
        } else {
            None
        };
        Ok(Page {
            items: rows,
            next_cursor,
        })
    }

    /// Rows after (at, key) in this order.
    fn beyond(&self, at: DateTime<Utc>, key: Value) -> Condition {
        let (time_past, key_past): (SimpleExpr, SimpleExpr) = match self.order {
            Order::Asc => (self.time.gt(at), self.key.gt(key)),
            _ => (self.time.lt(at), self.key.lt(key)),
        };
        Condition::any().add(time_past).add(
            Condition::all()
                .add(self.time.eq(at))
                .add(key_past)
                .into_condition(),
        )
    }
}

/// A cursor key for a UUID key column.
pub fn uuid_key(raw: &str) -> Option<Value> {
    raw.parse::<uuid::Uuid>().ok().map(Value::from)
}

/// A cursor key for a text key column.
pub fn text_key(raw: &str) -> Option<Value> {
    Some(Value::from(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_junk_is_refused() {
        let c = Cursor::new(Utc::now(), "k|with|bars");
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert_eq!(Cursor::decode("%%%").unwrap_err().field, "cursor");
        assert_eq!(PageRequest::new(Some(0), None).unwrap_err().field, "limit");
        assert_eq!(
            PageRequest::new(Some(201), None).unwrap_err().field,
            "limit"
        );
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 50);
    }
}

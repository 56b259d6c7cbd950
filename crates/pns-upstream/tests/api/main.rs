//! One integration binary: the real client against wiremock.

mod errors;
mod helpers;
mod logging;
mod operations;
mod paging;
mod retries;

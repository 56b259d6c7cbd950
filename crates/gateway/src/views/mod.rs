//! Resources as apps see them: the bodies of `GET /v1/bindings/{id}`, `GET /v1/calls/{id}`, the SMS
//! list, and the `data` of the webhook events about them, so an app can use one model for both.
//! Below `repo/` and `service/` (they write events with these shapes), beside `domain/`; knows no HTTP.

mod binding;
mod call;
mod number;
mod sms;

pub use binding::BindingOut;
pub use call::CallOut;
pub use number::NumberOut;
pub use sms::SmsOut;

//! Pure domain and wire layer of the PrivateNumber (AXB) gateway: AKSK signing and verification, validated
//! domain types, the upstream API bodies and the platform's callbacks. No I/O and no web framework here, so
//! the client, the simulator and the gateway all share one definition of the contract.

pub mod aksk;
pub mod callback;
pub mod phone;
mod redact;
pub mod result_code;
pub mod types;
pub mod wire;
pub mod wire_time;

pub use aksk::{
    AkskError, Credentials, InMemoryReplayGuard, ReplayGuard, SignedHeaders, Verifier, XAksk,
};
pub use callback::{
    CallEvent, CallEventType, Callback, CallbackParseError, FeeNotification, FeeRecord,
    NotificationMode, NumStatusInfo, NumStatusNotification, SmsDecision, SmsEvent, SmsNotification,
    StatusInfo, XNumberStatus,
};
pub use phone::{PhoneNumber, mask};
pub use result_code::{ResultClass, ResultCode};
pub use types::{
    BindingDuration, CallDirection, DomainError, MaxCallDuration, SubscriptionId, WireBool,
};
pub use wire::DecodeError;

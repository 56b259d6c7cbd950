//! `Debug` for wire structs that carry real phone numbers or message text. The wire keeps plain strings
//! (it must send the real values), so the masking happens where they would otherwise leak: `{:?}` in logs.

use std::fmt;

use crate::phone::mask;

/// Debug-prints a number (or an optional one) masked: `"+86186****5678"`.
pub(crate) struct Masked<'a, T: ?Sized>(pub &'a T);

impl fmt::Debug for Masked<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&mask(self.0), f)
    }
}

impl fmt::Debug for Masked<'_, Option<String>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.as_deref().map(mask), f)
    }
}

/// Debug-prints free text (SMS content) as its length only.
pub(crate) struct Redacted<'a>(pub &'a Option<String>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => write!(f, "Some(<{} chars redacted>)", text.chars().count()),
            None => f.write_str("None"),
        }
    }
}

/// `impl Debug` listing every field; the destructuring makes a field added later without a decision
/// here a compile error instead of a silent leak or omission.
macro_rules! debug_masking {
    ($ty:ident { plain: [$($plain:ident),* $(,)?], masked: [$($masked:ident),* $(,)?] $(, redacted: [$($redacted:ident),* $(,)?])? $(,)? }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let Self { $($plain,)* $($masked,)* $($($redacted,)*)? } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($plain), $plain))*
                    $(.field(stringify!($masked), &$crate::redact::Masked($masked)))*
                    $($(.field(stringify!($redacted), &$crate::redact::Redacted($redacted)))*)?
                    .finish()
            }
        }
    };
}

pub(crate) use debug_masking;

#[cfg(test)]
mod tests {
    use crate::callback::{FeeRecord, SmsDecision, SmsEvent, StatusInfo};
    use crate::wire::{BindRequest, BindingInfo, QueryParams};

    const A: &str = "+8618612345678";
    const B: &str = "+8613912345679";

    fn assert_hidden(shown: &str) {
        for secret in [A, B, "123", "hello there"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
    }

    #[test]
    fn debug_masks_real_numbers_and_sms_text() {
        let bind = BindRequest {
            caller_num: A.into(),
            callee_num: B.into(),
            relation_num: Some("+8617000000001".into()),
            ..BindRequest::default()
        };
        let shown = format!("{bind:?}");
        assert_hidden(&shown);
        assert!(
            shown.contains("+86186****5678") && shown.contains("+8617000000001"),
            "{shown}"
        );

        let info = BindingInfo {
            caller_num: A.into(),
            callee_num: B.into(),
            ..BindingInfo::default()
        };
        let query = QueryParams {
            caller_num: Some(A.into()),
            ..QueryParams::default()
        };
        let status = StatusInfo {
            caller: Some(A.into()),
            called: Some(B.into()),
            ..StatusInfo::default()
        };
        let fee = FeeRecord {
            caller_num: Some(A.into()),
            callee_num: Some(B.into()),
            fwd_dst_num: Some(B.into()),
            fwd_display_num: Some(A.into()),
            ..FeeRecord::default()
        };
        let sms = SmsEvent {
            calling: A.into(),
            called: Some(B.into()),
            sms_content: Some("hello there".into()),
            ..SmsEvent::default()
        };
        let route = SmsDecision::Route {
            called: B.into(),
            calling: A.into(),
        };
        assert_hidden(&format!(
            "{info:?} {query:?} {status:?} {fee:?} {sms:?} {route:?}"
        ));
        assert!(format!("{sms:?}").contains("<11 chars redacted>"));
    }
}

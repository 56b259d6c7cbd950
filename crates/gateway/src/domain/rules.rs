//! Field rules written once, used by every path that accepts the field. Each returns the reason a
//! value is refused; the HTTP edge names the field.

/// A city code such as `0755`: 2-8 digits, as the platform accepts them (a pool number may carry any
/// area the platform knows, so requests must accept the same range).
pub fn area_code(raw: &str) -> Result<(), &'static str> {
    if (2..=8).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be 2-8 digits, e.g. 0755")
    }
}

/// The OpenAPI pattern of [`area_code`].
pub const AREA_CODE_PATTERN: &str = r"^[0-9]{2,8}$";

/// Free text sent on to the platform: 1..=`max` characters, no control characters.
pub fn text(raw: &str, max: usize) -> Result<(), String> {
    if raw.is_empty() || raw.chars().count() > max {
        return Err(format!("must be 1-{max} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_codes_of_two_to_eight_digits_pass() {
        for ok in ["10", "0755", "1234567", "12345678"] {
            assert!(area_code(ok).is_ok(), "{ok}");
        }
        for bad in ["1", "123456789", "07a5", "", "０７５５"] {
            assert!(area_code(bad).is_err(), "{bad}");
        }
    }
}

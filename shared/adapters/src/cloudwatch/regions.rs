//! CloudWatch writes an alarm notification's `Region` as the console's display name ("US East
//! (N. Virginia)"), not as the code that ARNs, catalogs and SDK clients use. This table maps the
//! documented display names back to codes.
//!
//! Europe's regions were once written "EU (Ireland)" and are now "Europe (Ireland)"; both appear
//! in real notifications, so an "EU (" prefix is read as "Europe (" before looking it up, which
//! covers every European region whichever spelling its notification uses.

/// Display name and code of every commercial region, GovCloud and China, as the AWS General
/// Reference and the console name them. A few regions have had more than one display name; each
/// spelling seen in notifications has its own row.
const REGIONS: &[(&str, &str)] = &[
    ("US East (N. Virginia)", "us-east-1"),
    ("US East (Ohio)", "us-east-2"),
    ("US West (N. California)", "us-west-1"),
    ("US West (Oregon)", "us-west-2"),
    ("Africa (Cape Town)", "af-south-1"),
    ("Asia Pacific (Hong Kong)", "ap-east-1"),
    ("Asia Pacific (Taipei)", "ap-east-2"),
    ("Asia Pacific (Mumbai)", "ap-south-1"),
    ("Asia Pacific (Hyderabad)", "ap-south-2"),
    ("Asia Pacific (Tokyo)", "ap-northeast-1"),
    ("Asia Pacific (Seoul)", "ap-northeast-2"),
    ("Asia Pacific (Osaka)", "ap-northeast-3"),
    // The name of ap-northeast-3 while it was a local region (before 2021).
    ("Asia Pacific (Osaka-Local)", "ap-northeast-3"),
    ("Asia Pacific (Singapore)", "ap-southeast-1"),
    ("Asia Pacific (Sydney)", "ap-southeast-2"),
    ("Asia Pacific (Jakarta)", "ap-southeast-3"),
    ("Asia Pacific (Melbourne)", "ap-southeast-4"),
    ("Asia Pacific (Malaysia)", "ap-southeast-5"),
    ("Asia Pacific (New Zealand)", "ap-southeast-6"),
    ("Asia Pacific (Thailand)", "ap-southeast-7"),
    ("Canada (Central)", "ca-central-1"),
    ("Canada West (Calgary)", "ca-west-1"),
    ("Europe (Frankfurt)", "eu-central-1"),
    ("Europe (Zurich)", "eu-central-2"),
    ("Europe (Ireland)", "eu-west-1"),
    ("Europe (London)", "eu-west-2"),
    ("Europe (Paris)", "eu-west-3"),
    ("Europe (Milan)", "eu-south-1"),
    ("Europe (Spain)", "eu-south-2"),
    ("Europe (Stockholm)", "eu-north-1"),
    ("Israel (Tel Aviv)", "il-central-1"),
    ("Mexico (Central)", "mx-central-1"),
    ("Middle East (Bahrain)", "me-south-1"),
    ("Middle East (UAE)", "me-central-1"),
    ("South America (Sao Paulo)", "sa-east-1"),
    ("South America (São Paulo)", "sa-east-1"),
    ("AWS GovCloud (US-West)", "us-gov-west-1"),
    ("AWS GovCloud (US-East)", "us-gov-east-1"),
    // GovCloud's name while US-West was its only region.
    ("AWS GovCloud (US)", "us-gov-west-1"),
    ("China (Beijing)", "cn-north-1"),
    ("China (Ningxia)", "cn-northwest-1"),
];

/// The code of a region named by its display name (either European spelling) or, as emulators
/// and hand-made test messages write it, by its code. `None` for anything not in the table:
/// a guess would send a runbook to the wrong region.
pub fn code(name: &str) -> Option<&'static str> {
    let name = name.trim();
    let europe;
    let name = match name.strip_prefix("EU (") {
        Some(rest) => {
            europe = format!("Europe ({rest}");
            europe.as_str()
        }
        None => name,
    };
    REGIONS
        .iter()
        .find(|(display, code)| *display == name || *code == name)
        .map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_map_to_codes_in_both_european_spellings() {
        assert_eq!(code("US East (N. Virginia)"), Some("us-east-1"));
        assert_eq!(code("Asia Pacific (Tokyo)"), Some("ap-northeast-1"));
        assert_eq!(code("EU (Ireland)"), Some("eu-west-1"));
        assert_eq!(code("Europe (Ireland)"), Some("eu-west-1"));
        assert_eq!(code("EU (Frankfurt)"), Some("eu-central-1"));
        assert_eq!(code("AWS GovCloud (US-West)"), Some("us-gov-west-1"));
        assert_eq!(code("AWS GovCloud (US-East)"), Some("us-gov-east-1"));
        assert_eq!(code("China (Ningxia)"), Some("cn-northwest-1"));
        assert_eq!(code(" Asia Pacific (Tokyo) "), Some("ap-northeast-1"));
        assert_eq!(code("eu-west-1"), Some("eu-west-1"));
    }

    #[test]
    fn unknown_names_are_none() {
        for name in [
            "EXAMPLE",
            "",
            "EU (",
            "Europe (Atlantis)",
            "asia pacific (tokyo)",
        ] {
            assert_eq!(code(name), None, "{name}");
        }
    }

    #[test]
    fn the_table_has_one_code_shape_and_no_duplicate_names() {
        for (i, (display, code)) in REGIONS.iter().enumerate() {
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{code}"
            );
            assert!(
                !display.starts_with("EU ("),
                "{display}: write Europe (...)"
            );
            assert!(
                REGIONS[i + 1..].iter().all(|(other, _)| other != display),
                "{display} twice"
            );
        }
    }
}

//! Genesys Cloud regions and their API hosts.
//!
//! The list is the official SDKs' `PureCloudRegionHosts` (Python 257.1.0 / Go 188.0.0, plus
//! `eusc_de_east_1` from Python 269): `purecloud_region_hosts.py` in
//! github.com/MyPureCloud/platform-client-sdk-python and `configuration.go` in
//! github.com/MyPureCloud/platform-client-sdk-go.

use std::fmt;
use std::str::FromStr;

use crate::model::error::Error;

macro_rules! regions {
    ($($variant:ident => $id:literal, $domain:literal;)*) => {
        /// A Genesys Cloud region.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Region {
            $(
                #[doc = concat!("`", $id, "`: `https://api.", $domain, "`")]
                $variant,
            )*
        }

        impl Region {
            /// Every region this crate knows.
            pub const ALL: &'static [Region] = &[$(Region::$variant),*];

            /// The AWS-style region id, e.g. `us-east-1`.
            pub fn id(self) -> &'static str {
                match self { $(Region::$variant => $id,)* }
            }

            /// The region's domain, e.g. `mypurecloud.com`.
            pub fn domain(self) -> &'static str {
                match self { $(Region::$variant => $domain,)* }
            }
        }
    };
}

regions! {
    UsEast1 => "us-east-1", "mypurecloud.com";
    EuWest1 => "eu-west-1", "mypurecloud.ie";
    ApSoutheast2 => "ap-southeast-2", "mypurecloud.com.au";
    ApNortheast1 => "ap-northeast-1", "mypurecloud.jp";
    EuCentral1 => "eu-central-1", "mypurecloud.de";
    UsWest2 => "us-west-2", "usw2.pure.cloud";
    CaCentral1 => "ca-central-1", "cac1.pure.cloud";
    ApNortheast2 => "ap-northeast-2", "apne2.pure.cloud";
    EuWest2 => "eu-west-2", "euw2.pure.cloud";
    ApSouth1 => "ap-south-1", "aps1.pure.cloud";
    UsEast2 => "us-east-2", "use2.us-gov-pure.cloud";
    SaEast1 => "sa-east-1", "sae1.pure.cloud";
    MeCentral1 => "me-central-1", "mec1.pure.cloud";
    ApNortheast3 => "ap-northeast-3", "apne3.pure.cloud";
    EuCentral2 => "eu-central-2", "euc2.pure.cloud";
    MxCentral1 => "mx-central-1", "mxc1.pure.cloud";
    ApSoutheast1 => "ap-southeast-1", "apse1.pure.cloud";
    EuscDeEast1 => "eusc-de-east-1", "edee1.eusc-pure.cloud";
}

impl Region {
    /// The API base URL, e.g. `https://api.mypurecloud.com`.
    pub fn api_base_url(self) -> String {
        format!("https://api.{}", self.domain())
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Region {
    type Err = Error;

    /// Accepts an AWS-style id (`us-east-1` or the SDKs' `us_east_1`, any case), a domain
    /// (`mypurecloud.com`), or an API host or URL (`api.mypurecloud.com`,
    /// `https://api.mypurecloud.com`).
    fn from_str(s: &str) -> Result<Self, Error> {
        let wanted = s.trim().to_ascii_lowercase();
        let id = wanted.replace('_', "-");
        let host = wanted
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .trim_start_matches("api.")
            .trim_start_matches("login.");
        Region::ALL
            .iter()
            .copied()
            .find(|region| region.id() == id || region.domain() == host)
            .ok_or_else(|| {
                let known: Vec<&str> = Region::ALL.iter().map(|r| r.id()).collect();
                Error::invalid(
                    "region",
                    format!(
                        "{s:?} is not a Genesys Cloud region; use one of {}",
                        known.join(", ")
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_regions_parse_from_ids_sdk_names_domains_and_urls() {
        assert_eq!(Region::ALL.len(), 18);
        for &region in Region::ALL {
            let sdk_name = region.id().replace('-', "_");
            for spelling in [
                region.id().to_string(),
                sdk_name.clone(),
                sdk_name.to_uppercase(),
                region.domain().to_string(),
                format!("api.{}", region.domain()),
                region.api_base_url(),
            ] {
                assert_eq!(spelling.parse::<Region>().unwrap(), region, "{spelling}");
            }
        }
    }

    #[test]
    fn known_hosts() {
        assert_eq!(
            Region::UsEast1.api_base_url(),
            "https://api.mypurecloud.com"
        );
        assert_eq!(
            Region::EuWest2.api_base_url(),
            "https://api.euw2.pure.cloud"
        );
        assert_eq!(
            Region::UsEast2.api_base_url(),
            "https://api.use2.us-gov-pure.cloud"
        );
        assert_eq!(
            "eu_central_2".parse::<Region>().unwrap(),
            Region::EuCentral2
        );
    }

    #[test]
    fn unknown_region_names_the_choices() {
        let err = "mars-north-1".parse::<Region>().unwrap_err().to_string();
        assert!(err.contains("region") && err.contains("us-east-1"), "{err}");
    }
}

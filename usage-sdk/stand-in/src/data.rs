//! The seeded, deterministic usage data set: OAuth clients, users, template URIs and daily
//! request counts.
//!
//! Nothing is stored per day: a day's counts for one series (client, user, template URI,
//! HTTP method) are a pure function of the seed, the series and the date, so the same seed
//! gives the same numbers whatever day the stand-in is started on.

use chrono::{Datelike, NaiveDate, Weekday};

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for test data.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[0, n)`; `n` must be non-zero.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A UUID-shaped (version 4 layout) lower-case id.
    pub(crate) fn uuid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0x0fff,
            8 | ((lo >> 62) & 0x3),
            (lo >> 48) & 0x0fff,
            lo & 0xffff_ffff_ffff
        )
    }
}

/// The splitmix64 finaliser, also used as a stateless hash.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Id of the demo OAuth client (the "Reporting bot"), the same for every seed.
pub const DEMO_CLIENT_ID: &str = "6f1c2b1e-0000-4000-8000-00000000c1d0";
/// Secret of the demo OAuth client.
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret";
/// Name of the demo OAuth client.
pub const DEMO_CLIENT_NAME: &str = "Reporting bot";

/// The most OAuth clients the data set can have (the demo client included).
pub(crate) const MAX_CLIENTS: usize = CLIENT_NAMES.len() + 1;

const CLIENT_NAMES: &[&str] = &[
    "Salesforce CTI connector",
    "WFM schedule sync",
    "Analytics exporter",
    "Wallboard",
    "Chat widget backend",
    "Quality audit scripts",
    "Data lake loader",
];

/// Id of the seeded built-in Genesys OAuth client: its traffic shows in the aggregates
/// query jobs only, as the legacy endpoints filter the `purecloud-builtin` clients out.
pub const BUILTIN_CLIENT_ID: &str = "b1a7c0de-0000-4000-8000-0000000b1170";
/// Name of the seeded built-in Genesys OAuth client.
pub const BUILTIN_CLIENT_NAME: &str = "Genesys Cloud (purecloud-builtin)";

/// The `platform` values of the aggregates query jobs. Genesys does not publish the list:
/// "PureCloud" stands for traffic of Genesys Cloud's own apps, "API" for integrations.
pub(crate) const PLATFORMS: [&str; 2] = ["API", "PureCloud"];

/// What the built-in client calls: the Genesys Cloud UI acting for its users.
const BUILTIN_ENDPOINTS: &[(&str, &str)] = &[
    ("api/v2/users/{userId}/presences/purecloud", "PATCH"),
    ("api/v2/notifications/channels", "POST"),
    ("api/v2/conversations", "GET"),
    ("api/v2/routing/queues", "GET"),
];

/// `(templateUri, httpMethod)` pairs, no leading slash, as the real API reports them.
const ENDPOINTS: &[(&str, &str)] = &[
    ("api/v2/routing/queues", "GET"),
    ("api/v2/routing/queues/{queueId}", "GET"),
    ("api/v2/routing/queues/{queueId}/members", "GET"),
    ("api/v2/users", "GET"),
    ("api/v2/users/{userId}", "GET"),
    ("api/v2/users/{userId}/presences/purecloud", "PATCH"),
    ("api/v2/analytics/conversations/details/query", "POST"),
    ("api/v2/analytics/conversations/aggregates/query", "POST"),
    ("api/v2/analytics/queues/observations/query", "POST"),
    ("api/v2/conversations", "GET"),
    ("api/v2/conversations/calls/{conversationId}", "GET"),
    ("api/v2/conversations/{conversationId}/recordings", "GET"),
    ("api/v2/notifications/channels", "POST"),
    (
        "api/v2/notifications/channels/{channelId}/subscriptions",
        "PUT",
    ),
    (
        "api/v2/workforcemanagement/managementunits/{muId}/schedules",
        "GET",
    ),
    ("api/v2/externalcontacts/contacts", "POST"),
    ("api/v2/externalcontacts/contacts/{contactId}", "DELETE"),
    ("api/v2/usage/query", "POST"),
    ("api/v2/usage/query/{executionId}/results", "GET"),
    ("api/v2/quality/evaluations/query", "POST"),
];

/// One OAuth client of the simulated organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClient {
    /// The client id (UUID-shaped), used for Basic auth and in the client paths.
    pub id: String,
    /// The client secret, for `POST /oauth/token`.
    pub secret: String,
    /// The display name, reported as `clientName`.
    pub name: String,
}

/// One stream of daily counts.
#[derive(Clone, Debug)]
pub(crate) struct Series {
    /// Index into [`Dataset::clients`], then into [`Dataset::builtin_clients`].
    pub(crate) client: usize,
    /// The `platform` reported by the aggregates query jobs.
    pub(crate) platform: &'static str,
    pub(crate) user_id: String,
    pub(crate) template_uri: &'static str,
    pub(crate) http_method: &'static str,
    /// Mean requests per weekday.
    base: f64,
    key: u64,
}

/// The counters of one series on one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) status200: i64,
    pub(crate) status300: i64,
    pub(crate) status400: i64,
    pub(crate) status500: i64,
    pub(crate) status429: i64,
}

impl Counts {
    pub(crate) fn add(&mut self, other: &Counts) {
        self.status200 += other.status200;
        self.status300 += other.status300;
        self.status400 += other.status400;
        self.status500 += other.status500;
        self.status429 += other.status429;
    }

    /// Every request is counted in exactly one of the four status classes.
    pub(crate) fn requests(&self) -> i64 {
        self.status200 + self.status300 + self.status400 + self.status500
    }
}

/// The whole simulated organization.
#[derive(Clone, Debug)]
pub(crate) struct Dataset {
    pub(crate) organization_id: String,
    pub(crate) clients: Vec<OAuthClient>,
    /// Genesys' own clients: no credentials, hidden from the legacy endpoints.
    pub(crate) builtin_clients: Vec<OAuthClient>,
    pub(crate) series: Vec<Series>,
    seed: u64,
}

impl Dataset {
    /// Builds the organization for `seed` with `client_count` OAuth clients (clamped to
    /// `1..=MAX_CLIENTS`); the first is always the demo client.
    pub(crate) fn generate(seed: u64, client_count: usize) -> Self {
        let mut rng = SplitMix64::new(seed ^ 0x0A11_CE5E_ED00_0001);
        let organization_id = rng.uuid();
        let users: Vec<String> = (0..16).map(|_| rng.uuid()).collect();

        let mut clients = vec![OAuthClient {
            id: DEMO_CLIENT_ID.to_string(),
            secret: DEMO_CLIENT_SECRET.to_string(),
            name: DEMO_CLIENT_NAME.to_string(),
        }];
        for name in CLIENT_NAMES
            .iter()
            .take(client_count.clamp(1, MAX_CLIENTS) - 1)
        {
            let id = rng.uuid();
            let secret = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
            clients.push(OAuthClient {
                id,
                secret,
                name: (*name).to_string(),
            });
        }

        let mut series = Vec::new();
        for client in 0..clients.len() {
            // The demo client uses client credentials: no user. Odd-numbered clients do too;
            // the others act for a handful of users (code or implicit grants).
            let client_credentials = client % 2 == 0;
            let endpoints = 3 + rng.below(4) as usize;
            let start = rng.below(ENDPOINTS.len() as u64) as usize;
            let step = 1 + 2 * rng.below(5) as usize;
            for e in 0..endpoints {
                let (template_uri, http_method) = ENDPOINTS[(start + e * step) % ENDPOINTS.len()];
                let user_ids: Vec<String> = if client_credentials {
                    vec![String::new()]
                } else {
                    (0..1 + rng.below(3))
                        .map(|_| users[rng.below(users.len() as u64) as usize].clone())
                        .collect()
                };
                for user_id in user_ids {
                    if series.iter().any(|s: &Series| {
                        s.client == client
                            && s.user_id == user_id
                            && s.template_uri == template_uri
                            && s.http_method == http_method
                    }) {
                        continue;
                    }
                    let base = 20.0 + rng.next_f64().powi(2) * 2000.0;
                    let key = rng.next_u64();
                    series.push(Series {
                        client,
                        // From the key, not from `rng`: the legacy data stay as they were.
                        platform: PLATFORMS[(mix(key) & 1) as usize],
                        user_id,
                        template_uri,
                        http_method,
                        base,
                        key,
                    });
                }
            }
        }

        // The built-in client, from its own stream so the other series do not change.
        let builtin_clients = vec![OAuthClient {
            id: BUILTIN_CLIENT_ID.to_string(),
            secret: String::new(),
            name: BUILTIN_CLIENT_NAME.to_string(),
        }];
        let mut rng = SplitMix64::new(seed ^ 0xB017_1700_0000_0006);
        for (template_uri, http_method) in BUILTIN_ENDPOINTS {
            for _ in 0..2 {
                let user_id = users[rng.below(users.len() as u64) as usize].clone();
                if series.iter().any(|s: &Series| {
                    s.client == clients.len()
                        && s.user_id == user_id
                        && s.template_uri == *template_uri
                }) {
                    continue;
                }
                series.push(Series {
                    client: clients.len(),
                    platform: "PureCloud",
                    user_id,
                    template_uri,
                    http_method,
                    base: 50.0 + rng.next_f64() * 500.0,
                    key: rng.next_u64(),
                });
            }
        }

        Self {
            organization_id,
            clients,
            builtin_clients,
            series,
            seed,
        }
    }

    /// The client of a series, built-in ones included.
    pub(crate) fn client(&self, index: usize) -> &OAuthClient {
        self.clients
            .get(index)
            .unwrap_or_else(|| &self.builtin_clients[index - self.clients.len()])
    }

    /// Whether a series belongs to a built-in client (hidden from the legacy endpoints).
    pub(crate) fn is_builtin(&self, series: &Series) -> bool {
        series.client >= self.clients.len()
    }

    /// The counts of one series on one UTC day.
    pub(crate) fn counts(&self, series: &Series, day: NaiveDate) -> Counts {
        let mut rng = SplitMix64::new(mix(self.seed
            ^ series.key
            ^ (i64::from(day.num_days_from_ce()) as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)));
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        // Some days a series is idle altogether.
        if rng.next_f64() < if weekend { 0.35 } else { 0.05 } {
            return Counts::default();
        }
        let factor = if weekend { 0.25 } else { 1.0 };
        let requests = (series.base * factor * (0.5 + rng.next_f64())).round() as i64;
        let status500 = (requests as f64 * rng.next_f64() * 0.01).round() as i64;
        let status300 = (requests as f64 * rng.next_f64() * 0.02).round() as i64;
        let mut status400 = (requests as f64 * rng.next_f64() * 0.05).round() as i64;
        // Now and then a burst that hits the rate limit.
        let status429 = if rng.next_f64() < 0.1 {
            let burst = (requests as f64 * rng.next_f64() * 0.1).round() as i64;
            status400 += burst;
            burst + (status400 - burst) / 10
        } else {
            0
        };
        let status400 = status400.min(requests - status500 - status300);
        let status429 = status429.min(status400);
        Counts {
            status200: requests - status500 - status300 - status400,
            status300,
            status400,
            status500,
            status429,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_organization_and_counts() {
        let a = Dataset::generate(7, 6);
        let b = Dataset::generate(7, 6);
        assert_eq!(a.clients, b.clients);
        assert_eq!(a.clients[0].id, DEMO_CLIENT_ID);
        let day = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        for (sa, sb) in a.series.iter().zip(&b.series) {
            assert_eq!(a.counts(sa, day), b.counts(sb, day));
        }
        assert_ne!(
            Dataset::generate(8, 6).clients[1].id,
            a.clients[1].id,
            "another seed, another organization"
        );
    }

    #[test]
    fn counts_are_consistent() {
        let data = Dataset::generate(1, MAX_CLIENTS);
        assert_eq!(data.clients.len(), MAX_CLIENTS);
        let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        for _ in 0..60 {
            for s in &data.series {
                let c = data.counts(s, day);
                assert!(c.status200 >= 0 && c.status300 >= 0 && c.status500 >= 0);
                assert!(0 <= c.status429 && c.status429 <= c.status400, "{c:?}");
            }
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn uuids_look_like_uuids() {
        let id = SplitMix64::new(3).uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_eq!(
            id.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
    }
}

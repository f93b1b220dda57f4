//! Prices and the instance catalog, cached in the process across warm invocations (docs/design.md): spot prices for an hour, on-demand prices and the catalog for a day, each cache
//! bounded in size (`moka`). Misses of one invocation are fetched together, in one call per
//! kind; the response reports hits and misses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use fleetopt_ports::{InstanceTypeInfo, PriceSource, ServiceError, SpotPrice};
use moka::future::Cache;
use serde::Serialize;

/// How long a spot price history stays fresh.
pub const SPOT_TTL: Duration = Duration::from_secs(60 * 60);
/// How long on-demand prices and catalog entries stay fresh.
pub const CATALOG_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Entries each cache holds at most.
pub const CACHE_ENTRIES: u64 = 10_000;

/// Hits and misses of one cache.
#[derive(Debug, Default)]
struct Counter {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Counter {
    fn add(&self, hits: usize, misses: usize) {
        self.hits.fetch_add(hits as u64, Ordering::Relaxed);
        self.misses.fetch_add(misses as u64, Ordering::Relaxed);
    }

    fn take(&self) -> HitsAndMisses {
        HitsAndMisses {
            hits: self.hits.swap(0, Ordering::Relaxed),
            misses: self.misses.swap(0, Ordering::Relaxed),
        }
    }
}

/// Lookups answered from the cache, and those that needed a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct HitsAndMisses {
    /// From the cache.
    pub hits: u64,
    /// Fetched.
    pub misses: u64,
}

/// The caches' counts since they were last taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    /// On-demand prices, per (region, type).
    pub on_demand: HitsAndMisses,
    /// Spot price histories, per (type, zone).
    pub spot: HitsAndMisses,
    /// Catalog entries, per type pattern.
    pub catalog: HitsAndMisses,
}

/// A [`PriceSource`] with caches in front.
#[derive(Debug)]
pub struct CachedPrices<P> {
    source: P,
    on_demand: Cache<(String, String), Option<f64>>,
    spot: Cache<(String, String), Arc<Vec<SpotPrice>>>,
    catalog: Cache<String, Arc<Vec<InstanceTypeInfo>>>,
    on_demand_count: Counter,
    spot_count: Counter,
    catalog_count: Counter,
}

fn cache<K, V>(ttl: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(CACHE_ENTRIES)
        .time_to_live(ttl)
        .build()
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters (the EC2
/// filter's wildcard).
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            name.starts_with(prefix)
                && (0..=name.len() - prefix.len())
                    .any(|skip| matches(rest, &name[prefix.len() + skip..]))
        }
    }
}

impl<P: PriceSource + Sync> CachedPrices<P> {
    /// Caches in front of `source`.
    pub fn new(source: P) -> Self {
        CachedPrices {
            source,
            on_demand: cache(CATALOG_TTL),
            spot: cache(SPOT_TTL),
            catalog: cache(CATALOG_TTL),
            on_demand_count: Counter::default(),
            spot_count: Counter::default(),
            catalog_count: Counter::default(),
        }
    }

    /// The counts since the last call (one invocation's, when called once per invocation).
    pub fn take_stats(&self) -> CacheStats {
        CacheStats {
            on_demand: self.on_demand_count.take(),
            spot: self.spot_count.take(),
            catalog: self.catalog_count.take(),
        }
    }

    /// On-demand prices of these types in `region`; a type without a price is absent.
    pub async fn on_demand_hourly(
        &self,
        region: &str,
        types: &[String],
    ) -> Result<BTreeMap<String, f64>, ServiceError> {
        let mut prices = BTreeMap::new();
        let mut missing = Vec::new();
        for t in types {
            match self.on_demand.get(&(region.to_owned(), t.clone())).await {
                Some(price) => {
                    prices.extend(price.map(|p| (t.clone(), p)));
                }
                None => missing.push(t.clone()),
            }
        }
        self.on_demand_count
            .add(types.len() - missing.len(), missing.len());
        if !missing.is_empty() {
            let fetched = self.source.on_demand_hourly(region, &missing).await?;
            for t in missing {
                let price = fetched.get(&t).copied();
                self.on_demand
                    .insert((region.to_owned(), t.clone()), price)
                    .await;
                prices.extend(price.map(|p| (t, p)));
            }
        }
        Ok(prices)
    }

    /// Spot prices of these types in these zones since `start` (as fetched within the TTL).
    pub async fn spot_prices(
        &self,
        types: &[String],
        zones: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<SpotPrice>, ServiceError> {
        let mut found = Vec::new();
        let mut missing_types = Vec::new();
        let keys: Vec<(String, String)> = types
            .iter()
            .flat_map(|t| zones.iter().map(move |z| (t.clone(), z.clone())))
            .collect();
        let mut hits = 0;
        for key in &keys {
            match self.spot.get(key).await {
                Some(prices) => {
                    hits += 1;
                    found.extend(prices.iter().cloned());
                }
                None if !missing_types.contains(&key.0) => missing_types.push(key.0.clone()),
                None => {}
            }
        }
        self.spot_count.add(hits, keys.len() - hits);
        if !missing_types.is_empty() {
            let fetched = self
                .source
                .spot_prices(&missing_types, zones, start, end)
                .await?;
            for key in keys.iter().filter(|k| missing_types.contains(&k.0)) {
                let prices: Vec<SpotPrice> = fetched
                    .iter()
                    .filter(|p| p.instance_type == key.0 && p.availability_zone == key.1)
                    .cloned()
                    .collect();
                found.extend(prices.iter().cloned());
                self.spot.insert(key.clone(), Arc::new(prices)).await;
            }
        }
        found.sort_by_key(|p| p.timestamp);
        Ok(found)
    }

    /// Catalog entries matching these patterns (`m5.*`).
    pub async fn instance_types(
        &self,
        patterns: &[String],
    ) -> Result<Vec<InstanceTypeInfo>, ServiceError> {
        let mut found: BTreeMap<String, InstanceTypeInfo> = BTreeMap::new();
        let mut missing = Vec::new();
        for p in patterns {
            match self.catalog.get(p).await {
                Some(types) => found.extend(types.iter().map(|t| (t.name.clone(), t.clone()))),
                None => missing.push(p.clone()),
            }
        }
        self.catalog_count
            .add(patterns.len() - missing.len(), missing.len());
        if !missing.is_empty() {
            let fetched = self.source.instance_types(&missing).await?;
            for p in missing {
                let types: Vec<InstanceTypeInfo> = fetched
                    .iter()
                    .filter(|t| matches(&p, &t.name))
                    .cloned()
                    .collect();
                found.extend(types.iter().map(|t| (t.name.clone(), t.clone())));
                self.catalog.insert(p, Arc::new(types)).await;
            }
        }
        Ok(found.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A price source that counts its calls.
    #[derive(Default)]
    struct Counting {
        calls: Mutex<Vec<&'static str>>,
    }

    impl PriceSource for Counting {
        async fn on_demand_hourly(
            &self,
            _region: &str,
            types: &[String],
        ) -> Result<BTreeMap<String, f64>, ServiceError> {
            self.calls.lock().unwrap().push("pricing:GetProducts");
            Ok(types
                .iter()
                .filter(|t| t.as_str() != "x9.unpriced")
                .map(|t| (t.clone(), 0.1))
                .collect())
        }

        async fn spot_prices(
            &self,
            types: &[String],
            zones: &[String],
            start: DateTime<Utc>,
            _end: DateTime<Utc>,
        ) -> Result<Vec<SpotPrice>, ServiceError> {
            self.calls
                .lock()
                .unwrap()
                .push("ec2:DescribeSpotPriceHistory");
            Ok(types
                .iter()
                .flat_map(|t| {
                    zones.iter().map(move |z| SpotPrice {
                        instance_type: t.clone(),
                        availability_zone: z.clone(),
                        price: 0.03,
                        timestamp: start,
                    })
                })
                .collect())
        }

        async fn instance_types(
            &self,
            patterns: &[String],
        ) -> Result<Vec<InstanceTypeInfo>, ServiceError> {
            self.calls.lock().unwrap().push("ec2:DescribeInstanceTypes");
            Ok(patterns
                .iter()
                .map(|p| InstanceTypeInfo {
                    name: p.replace('*', "large"),
                    vcpus: 2,
                    memory_mib: 8192,
                    architectures: vec!["x86_64".into()],
                })
                .collect())
        }
    }

    #[test]
    fn patterns_match_like_the_ec2_filter() {
        assert!(matches("m5.*", "m5.large"));
        assert!(matches("m5.*", "m5.2xlarge"));
        assert!(!matches("m5.*", "m5a.large"));
        assert!(matches("*.large", "c5.large"));
        assert!(matches("m5.large", "m5.large"));
        assert!(!matches("m5.large", "m5.xlarge"));
    }

    #[tokio::test]
    async fn a_second_warm_invocation_repeats_no_price_or_catalog_call() {
        let cached = CachedPrices::new(Counting::default());
        let types = vec!["m5.large".to_owned(), "x9.unpriced".to_owned()];
        let zones = vec!["us-east-1a".to_owned(), "us-east-1b".to_owned()];
        let now = Utc::now();
        for _ in 0..2 {
            let prices = cached.on_demand_hourly("us-east-1", &types).await.unwrap();
            assert_eq!(
                prices.len(),
                1,
                "the unpriced type stays absent, and cached so"
            );
            let spot = cached
                .spot_prices(&types[..1], &zones, now, now)
                .await
                .unwrap();
            assert_eq!(spot.len(), 2);
            let catalog = cached.instance_types(&["m5.*".to_owned()]).await.unwrap();
            assert_eq!(catalog[0].name, "m5.large");
        }
        assert_eq!(
            *cached.source.calls.lock().unwrap(),
            vec![
                "pricing:GetProducts",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeInstanceTypes"
            ]
        );
        let stats = cached.take_stats();
        assert_eq!(stats.on_demand, HitsAndMisses { hits: 2, misses: 2 });
        assert_eq!(stats.spot, HitsAndMisses { hits: 2, misses: 2 });
        assert_eq!(stats.catalog, HitsAndMisses { hits: 1, misses: 1 });
        assert_eq!(cached.take_stats(), CacheStats::default());
    }
}

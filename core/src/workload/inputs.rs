//! What a batch's inputs look like: where a recommender's start, how an encoder's lengths vary.

use serde::{Deserialize, Serialize};

/// Where a recommender's batch inputs start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputSource {
    /// In host memory: every batch copies its dense features (fp32) and lookup indices (int64)
    /// over the host link, as a data loader feeding the device does.
    #[default]
    Host,
    /// Already in device memory (generated or staged there): no copy.
    Device,
}

impl InputSource {
    pub(super) fn is_host(&self) -> bool {
        *self == InputSource::Host
    }
}

impl std::str::FromStr for InputSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "host" => Ok(InputSource::Host),
            "device" => Ok(InputSource::Device),
            _ => Err(format!("unknown input source `{s}` (expected host or device)")),
        }
    }
}

/// How the lengths of a batch's sequences vary: their mean and standard deviation, in tokens.
/// The two moments are all an encoder's cost depends on: matrix multiplies scale with the tokens
/// (the mean), attention with the sum of squared lengths (mean² + sd²).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthSpread {
    /// Mean tokens per sequence.
    pub mean: f64,
    /// Standard deviation of the tokens per sequence.
    pub sd: f64,
}

/// Why a length distribution is not one.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum LengthError {
    /// Not `MEAN:SD` or `LEN=COUNT,...`.
    #[error("`{0}` is not MEAN:SD (e.g. 170:80) or a histogram LENGTH=COUNT,... (e.g. 128=40,256=35,384=25)")]
    Syntax(String),
    /// A mean below one token, or a negative or non-finite figure.
    #[error("mean {mean} tokens and spread {sd}: the mean must be at least 1 token and the spread 0 or more")]
    Range {
        /// Mean tokens.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// A histogram with no sequences, or a length below 1 or a negative count.
    #[error("the histogram must count some sequences, with lengths of at least 1 token and no negative counts")]
    Empty,
}

impl LengthSpread {
    /// The spread of a histogram of `(length in tokens, count or share)`.
    pub fn from_histogram(bins: &[(f64, f64)]) -> Result<LengthSpread, LengthError> {
        let total: f64 = bins.iter().map(|b| b.1).sum();
        let valid = |&(length, count): &(f64, f64)| length >= 1.0 && length.is_finite() && count >= 0.0;
        if total.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !bins.iter().all(valid) {
            return Err(LengthError::Empty);
        }
        let mean = bins.iter().map(|(l, c)| l * c).sum::<f64>() / total;
        let var = bins.iter().map(|(l, c)| c * (l - mean).powi(2)).sum::<f64>() / total;
        LengthSpread::new(mean, var.sqrt())
    }

    /// A spread of `mean` ± `sd` tokens.
    pub fn new(mean: f64, sd: f64) -> Result<LengthSpread, LengthError> {
        if !(mean >= 1.0 && mean.is_finite() && sd >= 0.0 && sd.is_finite()) {
            return Err(LengthError::Range { mean, sd });
        }
        Ok(LengthSpread { mean, sd })
    }
}

impl std::str::FromStr for LengthSpread {
    type Err = LengthError;

    fn from_str(text: &str) -> Result<LengthSpread, LengthError> {
        let bad = || LengthError::Syntax(text.to_string());
        let number = |t: &str| t.trim().parse::<f64>().map_err(|_| bad());
        if let Some((mean, sd)) = text.split_once(':') {
            return LengthSpread::new(number(mean)?, number(sd)?);
        }
        let bins = text
            .split(',')
            .map(|bin| bin.split_once('=').ok_or_else(bad).and_then(|(l, c)| Ok((number(l)?, number(c)?))))
            .collect::<Result<Vec<_>, _>>()?;
        LengthSpread::from_histogram(&bins)
    }
}

/// The share of a recommender's embedding lookups that land on the rows kept in device memory
/// when its tables do not all fit there (`offload`): a cache of the hottest rows hits more
/// often than the rows' share, since real lookups favour few rows. Without it, every row is as
/// likely as any other and the hits are the resident rows' share. From 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct CacheHits(f64);

/// Why a cache hit share is not one.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum CacheHitsError {
    /// Not a number or a percentage.
    #[error("`{0}` is not a share of lookups (e.g. 0.9 or 90%)")]
    Syntax(String),
    /// Below 0, above 1, or not finite (as given).
    #[error("a cache hit share must be from 0 to 1 (0% to 100%), got {0}")]
    Range(String),
}

impl CacheHits {
    /// `share` of the lookups, from 0 to 1.
    pub fn new(share: f64) -> Result<CacheHits, CacheHitsError> {
        if (0.0..=1.0).contains(&share) { Ok(CacheHits(share)) } else { Err(CacheHitsError::Range(share.to_string())) }
    }

    /// The share, from 0 to 1.
    pub fn share(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for CacheHits {
    type Error = CacheHitsError;

    fn try_from(share: f64) -> Result<CacheHits, CacheHitsError> {
        CacheHits::new(share)
    }
}

impl From<CacheHits> for f64 {
    fn from(h: CacheHits) -> f64 {
        h.0
    }
}

impl std::str::FromStr for CacheHits {
    type Err = CacheHitsError;

    /// `0.9` or `90%`.
    fn from_str(text: &str) -> Result<CacheHits, CacheHitsError> {
        let (number, scale) = match text.trim().strip_suffix('%') {
            Some(p) => (p, 100.0),
            None => (text.trim(), 1.0),
        };
        let v: f64 = number.trim().parse().map_err(|_| CacheHitsError::Syntax(text.to_string()))?;
        CacheHits::new(v / scale).map_err(|_| CacheHitsError::Range(text.trim().to_string()))
    }
}

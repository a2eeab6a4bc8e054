//! Password hashes (argon2) and random tokens. Kept apart from HTTP so the store and the
//! command line use the same code.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use sha2::{Digest, Sha256};

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// False for a wrong password and for a stored hash that does not parse.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hashing refused or failed: `Busy` when too many hashes are already waiting.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks in progress")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Runs argon2 on tokio's blocking pool behind two limits: `running` hashes at once, and at
/// most `queued` more waiting; beyond that the caller is told `Busy` at once (503).
///
/// why: argon2 takes tens of milliseconds of CPU; run on the async workers, a flood of
/// sign-ins stalls every other request (`/healthz` fell from 46,000 to 100 req/s).
#[derive(Debug)]
pub struct HashPool {
    admitted: std::sync::Arc<tokio::sync::Semaphore>,
    running: std::sync::Arc<tokio::sync::Semaphore>,
}

impl HashPool {
    pub fn new(running: usize, queued: usize) -> HashPool {
        let running = running.max(1);
        HashPool {
            admitted: std::sync::Arc::new(tokio::sync::Semaphore::new(running + queued)),
            running: std::sync::Arc::new(tokio::sync::Semaphore::new(running)),
        }
    }

    /// Half the cores hash (at least one), so the other half keeps serving everything else.
    pub fn for_this_machine() -> HashPool {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let running = (cores / 2).max(1);
        HashPool::new(running, running * 4)
    }

    /// One pool for callers without application state (the command line, tests).
    pub fn global() -> &'static HashPool {
        static POOL: std::sync::LazyLock<HashPool> =
            std::sync::LazyLock::new(HashPool::for_this_machine);
        &POOL
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Busy)?;
        // The permits travel with the work: a client that hangs up does not free a slot
        // while its hash still runs.
        tokio::task::spawn_blocking(move || {
            let _permits = (admitted, running);
            work()
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_string();
        self.run(move || hash_password(&password))
            .await?
            .map_err(HashError::Failed)
    }

    /// Verifies against the stored hash, or against a dummy when there is none, so that an
    /// unknown username takes as long as a wrong password.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let password = password.to_string();
        let stored = stored.map(str::to_string);
        self.run(move || match stored {
            Some(h) => verify_password(&password, &h),
            None => {
                let _ = verify_password(&password, dummy_hash());
                false
            }
        })
        .await
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("cherga-dummy-password").unwrap_or_default());
    &DUMMY
}

/// 256 random bits, hex-encoded.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// A readable password for the generated admin account: 16 characters without look-alikes.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let h = hash_password("секрет-123").expect("hash");
        assert!(verify_password("секрет-123", &h));
        assert!(!verify_password("секрет-124", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(random_password().len(), 16);
    }

    #[tokio::test]
    async fn a_full_pool_says_busy_at_once() {
        let pool = HashPool::new(1, 0);
        let gate = std::sync::Arc::new(std::sync::Barrier::new(2));
        let g = gate.clone();
        let pool = std::sync::Arc::new(pool);
        let p = pool.clone();
        let first = tokio::spawn(async move { p.run(move || g.wait()).await.is_ok() });
        // Wait until the first job holds the only slot.
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.verify("x", None).await, Err(HashError::Busy)));
        gate.wait();
        assert!(first.await.unwrap());
        let h = pool.hash("секрет-123").await.unwrap();
        assert!(pool.verify("секрет-123", Some(&h)).await.unwrap());
        assert!(!pool.verify("секрет-124", Some(&h)).await.unwrap());
        assert!(!pool.verify("секрет-124", None).await.unwrap());
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}

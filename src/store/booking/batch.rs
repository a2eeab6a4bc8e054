//! SQLite's group commit for bookings: the bookings waiting for the one writer are decided
//! together, in memory, under one write lock, and written with a handful of statements.
//!
//! why: on SQLite every statement is a hand-over to the connection's worker thread and back,
//! and under a storm that hand-over, not SQLite, was most of the time: a booking written alone
//! costs about six statements (caps, claims, load, insert, claim rows) against a raw commit's
//! three. Here a batch of up to `BATCH` bookings reads the people's bookings, the claims and
//! the day's load once each, decides every booking in arrival order exactly as one booking
//! would (each sees the ones before it in the batch), and writes all rows with one insert per
//! table. The write lock is held from the first read (`BEGIN IMMEDIATE`), so what the reads
//! saw stays true until the commit; other instances on the same file wait at that lock.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, TryInsertResult};

use super::{
    BookError, BookedRecord, NewBooking, Planned, Secrets, begin_write, booked, booked_record,
    claim_rows, claimed_in, day_load, enqueue_new, insert_claims, insert_row, minute_of, new_row,
    person_bookings, release_due, write_booking,
};
use crate::domain::booking::fair::{self, PersonBooking};
use crate::domain::booking::{Policy, Status};
use crate::error::AppError;
use crate::mail::booking::MailSettings;
use crate::store::entities::{booking, booking_claim};

/// One booking waiting for the SQLite writer.
pub struct BookingJob {
    pub(super) planned: Arc<Planned>,
    pub(super) new: NewBooking,
    pub(super) policy: Policy,
    pub(super) mail: MailSettings,
    pub(super) now: DateTime<Utc>,
}

type JobResult = Result<Option<BookedRecord>, BookError>;

/// A queued booking and where its outcome goes.
pub struct QueuedBooking {
    job: BookingJob,
    done: tokio::sync::oneshot::Sender<JobResult>,
}

/// Batches undone and written booking by booking since the start: never, unless a statement
/// failed or the batch's decisions were wrong, which the tests check.
static FALLBACKS: AtomicU64 = AtomicU64::new(0);

pub fn fallbacks() -> u64 {
    FALLBACKS.load(Ordering::Relaxed)
}

/// Most bookings one write transaction takes.
const BATCH: usize = 64;

/// Claim rows per insert statement: 3 values a row, well under SQLite's 32,766 variables.
const CLAIM_ROWS_PER_INSERT: usize = 4000;

/// Writes a booking on SQLite together with the others waiting at that moment, in one write
/// transaction (group commit).
///
/// why: bookings that arrive while one transaction runs queue up; whoever gets the writer
/// next takes them all (up to `BATCH`) into one transaction and tells each its outcome. A
/// database error rolls the batch back and writes each booking alone, so one failure never
/// takes the others with it.
pub(super) async fn write_in_batch(
    writer: &crate::store::Writer,
    conn: DatabaseConnection,
    job: BookingJob,
) -> JobResult {
    let (done, mut outcome) = tokio::sync::oneshot::channel();
    writer
        .bookings
        .lock()
        .map_err(|_| AppError::internal("booking queue poisoned"))?
        .push(QueuedBooking { job, done });
    loop {
        tokio::select! {
            biased;
            r = &mut outcome => {
                return r.unwrap_or_else(|_| Err(AppError::internal("booking batch lost").into()));
            }
            guard = writer.leader.lock() => {
                let jobs: Vec<QueuedBooking> = match writer.bookings.lock() {
                    Ok(mut q) => {
                        let n = q.len().min(BATCH);
                        q.drain(..n).collect()
                    }
                    Err(_) => Vec::new(),
                };
                if !jobs.is_empty() {
                    // why: spawned, so a request that goes away mid-batch does not roll back
                    // the other bookings in it.
                    let _ = tokio::spawn(run_batch(conn.clone(), jobs)).await;
                }
                drop(guard);
            }
        }
    }
}

async fn run_batch(conn: DatabaseConnection, jobs: Vec<QueuedBooking>) {
    let batch: Vec<&BookingJob> = jobs.iter().map(|q| &q.job).collect();
    match write_batch(&conn, &batch).await {
        Ok(results) => {
            for (q, r) in jobs.into_iter().zip(results) {
                let _ = q.done.send(r);
            }
        }
        Err(e) => {
            FALLBACKS.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = ?e, bookings = jobs.len(), "booking batch undone; writing each alone");
            for q in jobs {
                let r = write_alone(&conn, &q.job).await;
                let _ = q.done.send(r);
            }
        }
    }
}

/// The batch in one transaction; `Err` when a statement failed (nothing kept).
async fn write_batch(
    conn: &DatabaseConnection,
    jobs: &[&BookingJob],
) -> Result<Vec<JobResult>, BookError> {
    let txn = begin_write(conn).await?;
    match decide_and_write(&txn, jobs).await {
        Ok(results) => {
            txn.commit().await?;
            Ok(results)
        }
        Err(e) => {
            let _ = txn.rollback().await;
            Err(e)
        }
    }
}

/// One booking in its own transaction, statement by statement: what a booking gets when its
/// batch met an error.
async fn write_alone(conn: &DatabaseConnection, j: &BookingJob) -> JobResult {
    let txn = begin_write(conn).await?;
    let r = write_booking(&txn, &j.planned, &j.new, &j.policy, &j.mail, j.now).await;
    if matches!(r, Ok(Some(_))) {
        txn.commit().await?;
    } else {
        let _ = txn.rollback().await;
    }
    r
}

/// A booking the batch decided to make.
struct Made {
    job: usize,
    specialist_id: i32,
    secrets: Secrets,
    row: booking::ActiveModel,
}

type Minutes = (i64, i64);

fn overlaps(a: Minutes, b: Minutes) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The minute ranges the batch's bookings want, each with the specialists wanted over it.
fn wanted_ranges(jobs: &[&BookingJob]) -> (Vec<(Minutes, Vec<i32>)>, Vec<usize>) {
    let mut index: HashMap<Minutes, usize> = HashMap::new();
    let mut sets: Vec<(Minutes, BTreeSet<i32>)> = Vec::new();
    let mut of_job = Vec::with_capacity(jobs.len());
    for j in jobs {
        let range = (minute_of(j.new.start), minute_of(j.planned.end));
        let i = *index.entry(range).or_insert_with(|| {
            sets.push((range, BTreeSet::new()));
            sets.len() - 1
        });
        sets[i].1.extend(j.planned.candidates.iter().map(|s| s.id));
        of_job.push(i);
    }
    let ranges = sets
        .into_iter()
        .map(|(r, ids)| (r, ids.into_iter().collect()))
        .collect();
    (ranges, of_job)
}

type Day = (DateTime<Utc>, DateTime<Utc>);

/// The live bookings per specialist on each local day the batch books, for "any specialist".
async fn day_loads(
    txn: &impl ConnectionTrait,
    jobs: &[&BookingJob],
) -> Result<HashMap<Day, HashMap<i32, i64>>, BookError> {
    let mut days: HashMap<Day, BTreeSet<i32>> = HashMap::new();
    for j in jobs {
        days.entry(j.planned.day_bounds)
            .or_default()
            .extend(j.planned.candidates.iter().map(|s| s.id));
    }
    let mut loads = HashMap::with_capacity(days.len());
    for (day, ids) in days {
        let ids: Vec<i32> = ids.into_iter().collect();
        loads.insert(day, day_load(txn, &ids, day).await?);
    }
    Ok(loads)
}

/// What a new booking counts as for its person's caps later in the batch.
fn as_person_booking(j: &BookingJob, secrets: &Secrets) -> PersonBooking {
    let c = &j.new.contact;
    let pending = secrets.confirm.is_some();
    PersonBooking {
        phone_norm: c.phone_norm.clone(),
        email_norm: c.email_norm.clone(),
        account: c.account.clone(),
        service_id: j.planned.service.id,
        status: if pending {
            Status::Pending
        } else {
            Status::Confirmed
        },
        starts_at: j.new.start,
        ends_at: j.planned.end,
        hold_expires_at: pending.then(|| j.now + Duration::minutes(j.policy.hold_minutes)),
    }
}

/// Reads once for the batch, decides each booking in order in memory, then writes.
async fn decide_and_write(
    txn: &impl ConnectionTrait,
    jobs: &[&BookingJob],
) -> Result<Vec<JobResult>, BookError> {
    let (Some(earliest), Some(since)) = (
        jobs.iter().map(|j| j.now).min(),
        jobs.iter()
            .map(|j| fair::no_show_since(&j.policy, j.now))
            .min(),
    ) else {
        return Ok(Vec::new());
    };
    let contacts: Vec<_> = jobs.iter().map(|j| &j.new.contact).collect();
    let mut people = person_bookings(txn, &contacts, since, earliest).await?;
    let (ranges, range_of) = wanted_ranges(jobs);
    let mut claimed = claimed_in(txn, &ranges).await?;
    let mut loads = day_loads(txn, jobs).await?;
    // Minutes this batch claims, per specialist.
    let mut taken: HashMap<i32, Vec<Minutes>> = HashMap::new();
    let mut results: Vec<Option<JobResult>> = Vec::with_capacity(jobs.len());
    let mut made: Vec<Made> = Vec::new();
    for (k, j) in jobs.iter().enumerate() {
        let p = &j.planned;
        let mine = people.iter().filter(|b| b.belongs_to(&j.new.contact));
        if let Err(refusal) = fair::check_person(mine, p.service.id, &j.policy, j.now) {
            results.push(Some(Err(refusal.into())));
            continue;
        }
        let ri = range_of[k];
        let range = ranges[ri].0;
        let free = |claimed: &BTreeSet<i32>| -> Vec<i32> {
            p.candidates
                .iter()
                .map(|s| s.id)
                .filter(|id| !claimed.contains(id))
                .filter(|id| {
                    taken
                        .get(id)
                        .is_none_or(|mine| !mine.iter().any(|m| overlaps(*m, range)))
                })
                .collect()
        };
        let mut ids = free(&claimed[ri]);
        if ids.is_empty() && !p.candidates.is_empty() {
            // The claims may belong to holds that ran out or cancellations past their delay,
            // which the worker has not freed yet: free them and read this range again (the
            // batch's own claims are not written yet, so the read sees only others').
            release_due(txn, &p.ids, j.now).await?;
            let fresh = claimed_in(txn, std::slice::from_ref(&ranges[ri])).await?;
            if let Some(fresh) = fresh.into_iter().next() {
                claimed[ri] = fresh;
            }
            ids = free(&claimed[ri]);
        }
        let load = loads.entry(p.day_bounds).or_default();
        fair::least_loaded_first(&mut ids, load);
        let Some(&specialist_id) = ids.first() else {
            results.push(Some(Ok(None)));
            continue;
        };
        let secrets = Secrets::draw(&j.new, &j.policy);
        *load.entry(specialist_id).or_insert(0) += 1;
        taken.entry(specialist_id).or_default().push(range);
        people.push(as_person_booking(j, &secrets));
        let row = new_row(p, &j.new, specialist_id, &secrets, &j.policy, j.now);
        made.push(Made {
            job: k,
            specialist_id,
            secrets,
            row,
        });
        results.push(None);
    }
    for (job, record) in write_made(txn, jobs, made).await? {
        results[job] = Some(Ok(Some(record)));
    }
    results
        .into_iter()
        .map(|r| r.ok_or_else(|| AppError::internal("a batched booking lost its outcome").into()))
        .collect()
}

/// Inserts the decided bookings and their claims, and enqueues their mail; returns each
/// booking's record by its job.
async fn write_made(
    txn: &impl ConnectionTrait,
    jobs: &[&BookingJob],
    made: Vec<Made>,
) -> Result<Vec<(usize, BookedRecord)>, BookError> {
    if made.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<booking::ActiveModel> = made.iter().map(|m| m.row.clone()).collect();
    let inserted = match booking::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([booking::Column::OfficeId, booking::Column::Code])
        .exec_with_returning_many(txn)
        .await?
    {
        TryInsertResult::Inserted(models) => models,
        TryInsertResult::Conflicted | TryInsertResult::Empty => Vec::new(),
    };
    let mut by_token: HashMap<String, booking::Model> = inserted
        .into_iter()
        .map(|m| (m.manage_token_hash.clone(), m))
        .collect();
    let mut claims = Vec::new();
    let mut out = Vec::with_capacity(made.len());
    for m in made {
        let model = match by_token.remove(&m.secrets.manage_hash) {
            Some(model) => model,
            // Its code was drawn twice in the office: this one draws again alone.
            None => insert_row(txn, m.row).await?,
        };
        let j = jobs[m.job];
        claims.extend(claim_rows(
            m.specialist_id,
            model.id,
            j.new.start,
            j.planned.end,
        ));
        let spec = j
            .planned
            .candidates
            .iter()
            .find(|s| s.id == m.specialist_id)
            .ok_or_else(|| AppError::internal("a batched booking lost its specialist"))?;
        let record = booked_record(&j.planned, spec, model);
        enqueue_new(txn, &record, &m.secrets, &j.mail, j.now).await?;
        out.push((m.job, booked(record, m.secrets)));
    }
    claim_all(txn, claims).await?;
    Ok(out)
}

/// Inserts the batch's claims; every one must go in, since the batch decided them under the
/// write lock. A claim already held means the decision was wrong, and the batch is undone.
async fn claim_all(
    txn: &impl ConnectionTrait,
    claims: Vec<booking_claim::ActiveModel>,
) -> Result<(), BookError> {
    let wanted = claims.len() as u64;
    let mut got = 0;
    let mut rest = claims;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(CLAIM_ROWS_PER_INSERT));
        got += insert_claims(txn, rest).await?;
        rest = tail;
    }
    if got != wanted {
        return Err(AppError::internal("a batch's claims met claims it did not see").into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::overlaps;

    #[test]
    fn ranges_overlap_only_when_they_share_a_minute() {
        assert!(overlaps((0, 30), (29, 60)));
        assert!(!overlaps((0, 30), (30, 60)));
        assert!(overlaps((10, 20), (0, 60)));
    }
}

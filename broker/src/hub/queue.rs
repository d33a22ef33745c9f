//! The teams' queues: who waits in each, in the order they started waiting, and how
//! fast the team picks people up, for the wait a customer is told to expect.
//!
//! A session's task puts its session in (it accepted the terms and nobody has it) and
//! takes it out (picked up, ended); every change is announced by the team's id, and
//! each waiting customer's socket reads its own place again.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use connectit_protocol::{Millis, SessionId};
use tokio::sync::broadcast;

/// Pick-ups the estimate is made from, at most.
const SAMPLES: usize = 10;
/// Pick-ups older than this say nothing about the wait now.
const SAMPLE_MAX_AGE: Millis = 4 * 3600 * 1000;
/// Fewer pick-ups than this: no estimate.
const MIN_SAMPLES: usize = 2;

#[derive(Default)]
struct TeamQueue {
    /// Waiting since, and who.
    waiting: BTreeSet<(Millis, SessionId)>,
    /// Since when someone has been waiting without a break (`None`: nobody waits).
    busy_since: Option<Millis>,
    /// The last pick-up.
    last_pick: Millis,
    /// Recent pick-ups: when, and how long the team took for it while someone
    /// waited (the time since the previous pick-up or since the queue filled,
    /// whichever is later).
    picks: VecDeque<(Millis, Millis)>,
}

/// Every team's queue.
pub struct Queues {
    teams: Mutex<HashMap<i64, TeamQueue>>,
    changed: broadcast::Sender<i64>,
}

impl Default for Queues {
    fn default() -> Self {
        Queues {
            teams: Mutex::new(HashMap::new()),
            changed: broadcast::channel(1024).0,
        }
    }
}

impl Queues {
    fn teams(&self) -> std::sync::MutexGuard<'_, HashMap<i64, TeamQueue>> {
        self.teams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The ids of teams whose queue changed, from now on.
    pub fn watch(&self) -> broadcast::Receiver<i64> {
        self.changed.subscribe()
    }

    /// `id` waits in `team`'s queue since `since`.
    pub fn join(&self, team: i64, since: Millis, id: &SessionId) {
        {
            let mut teams = self.teams();
            let queue = teams.entry(team).or_default();
            queue.waiting.insert((since, id.clone()));
            queue.busy_since.get_or_insert(since);
        }
        let _ = self.changed.send(team);
    }

    /// `id` waits no more: picked up at `picked_at`, or gone (`None`).
    pub fn leave(&self, team: i64, since: Millis, id: &SessionId, picked_at: Option<Millis>) {
        {
            let mut teams = self.teams();
            let queue = teams.entry(team).or_default();
            queue.waiting.remove(&(since, id.clone()));
            if let Some(at) = picked_at {
                let from = queue.last_pick.max(queue.busy_since.unwrap_or(at));
                queue.picks.push_back((at, at.saturating_sub(from)));
                if queue.picks.len() > SAMPLES {
                    queue.picks.pop_front();
                }
                queue.last_pick = at;
            }
            if queue.waiting.is_empty() {
                queue.busy_since = None;
            }
        }
        let _ = self.changed.send(team);
    }

    /// Makes the waiting customers of every team exactly `waiting` (team, since, id),
    /// as storage has them (the brokers of a cluster keep each other's queues; this
    /// mends one that missed news). Pick-ups seen so far are kept for the estimates.
    pub fn replace_waiting(&self, waiting: &[(i64, Millis, SessionId)]) {
        let changed: Vec<i64> = {
            let mut teams = self.teams();
            let mut now: HashMap<i64, BTreeSet<(Millis, SessionId)>> = HashMap::new();
            for (team, since, id) in waiting {
                now.entry(*team).or_default().insert((*since, id.clone()));
            }
            let mut changed = Vec::new();
            for (team, queue) in teams.iter_mut() {
                let want = now.remove(team).unwrap_or_default();
                if queue.waiting != want {
                    queue.busy_since = want.iter().next().map(|(since, _)| *since);
                    queue.waiting = want;
                    changed.push(*team);
                }
            }
            for (team, want) in now {
                let queue = teams.entry(team).or_default();
                queue.busy_since = want.iter().next().map(|(since, _)| *since);
                queue.waiting = want;
                changed.push(team);
            }
            changed
        };
        for team in changed {
            let _ = self.changed.send(team);
        }
    }

    /// `id`'s place in `team`'s queue (1: next) and how many wait, if it waits there.
    pub fn position(&self, team: i64, id: &SessionId) -> Option<(u32, u32)> {
        let teams = self.teams();
        let queue = teams.get(&team)?;
        let place = queue.waiting.iter().position(|(_, s)| s == id)?;
        Some((place as u32 + 1, queue.waiting.len() as u32))
    }

    /// The teams someone waits in.
    pub fn teams_waiting(&self) -> Vec<i64> {
        self.teams()
            .iter()
            .filter(|(_, q)| !q.waiting.is_empty())
            .map(|(team, _)| *team)
            .collect()
    }

    /// Who waits in `team`'s queue, in order.
    pub fn waiting_in(&self, team: i64) -> Vec<SessionId> {
        self.teams()
            .get(&team)
            .map(|q| q.waiting.iter().map(|(_, id)| id.clone()).collect())
            .unwrap_or_default()
    }

    /// How many wait in `team`'s queue.
    pub fn waiting(&self, team: i64) -> u32 {
        self.teams()
            .get(&team)
            .map_or(0, |q| q.waiting.len() as u32)
    }

    /// The wait to expect in seconds at `position` (1: next), from the team's recent
    /// pace: the mean time it took per pick-up while people waited, times the place.
    /// `None` with too few recent pick-ups to say.
    pub fn estimate_secs(&self, team: i64, position: u32, now: Millis) -> Option<u64> {
        let teams = self.teams();
        let queue = teams.get(&team)?;
        let recent: Vec<Millis> = queue
            .picks
            .iter()
            .filter(|(at, _)| now.saturating_sub(*at) <= SAMPLE_MAX_AGE)
            .map(|(_, took)| *took)
            .collect();
        if recent.len() < MIN_SAMPLES {
            return None;
        }
        let mean = recent.iter().sum::<Millis>() / recent.len() as Millis;
        Some((mean * Millis::from(position)).div_ceil(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> SessionId {
        SessionId(format!("s{n}"))
    }

    #[test]
    fn places_follow_the_order_of_waiting() {
        let q = Queues::default();
        q.join(1, 200, &id(2));
        q.join(1, 100, &id(1));
        q.join(2, 50, &id(9));
        assert_eq!(q.position(1, &id(1)), Some((1, 2)));
        assert_eq!(q.position(1, &id(2)), Some((2, 2)));
        assert_eq!(q.position(1, &id(9)), None, "another team's");
        q.leave(1, 100, &id(1), Some(1_000));
        assert_eq!(q.position(1, &id(2)), Some((1, 1)));
        assert_eq!(q.waiting(1), 1);
    }

    #[test]
    fn replacing_the_waiting_mends_a_queue_and_keeps_the_pace() {
        let q = Queues::default();
        q.join(1, 0, &id(1));
        q.join(1, 0, &id(2));
        q.leave(1, 0, &id(1), Some(60_000));
        q.join(1, 0, &id(3));
        q.leave(1, 0, &id(2), Some(120_000));
        let mut changes = q.watch();
        // Storage says: s3 left, s5 waits in team 1 and s7 in team 2.
        q.replace_waiting(&[(1, 500, id(5)), (2, 10, id(7))]);
        assert_eq!(q.waiting_in(1), vec![id(5)]);
        assert_eq!(q.waiting_in(2), vec![id(7)]);
        assert_eq!(q.estimate_secs(1, 1, 120_000), Some(60), "the pace is kept");
        let mut told = vec![changes.try_recv().unwrap(), changes.try_recv().unwrap()];
        told.sort();
        assert_eq!(told, vec![1, 2]);
        // The same again changes nothing.
        q.replace_waiting(&[(1, 500, id(5)), (2, 10, id(7))]);
        assert!(changes.try_recv().is_err());
    }

    #[test]
    fn the_estimate_is_the_teams_pace_times_the_place() {
        let q = Queues::default();
        q.join(1, 0, &id(1));
        q.join(1, 0, &id(2));
        q.join(1, 0, &id(3));
        assert_eq!(q.estimate_secs(1, 1, 0), None, "no pick-ups yet");
        // One pick-up every 60 s while people wait.
        q.leave(1, 0, &id(1), Some(60_000));
        assert_eq!(q.estimate_secs(1, 1, 60_000), None, "one is too few");
        q.leave(1, 0, &id(2), Some(120_000));
        assert_eq!(q.estimate_secs(1, 1, 120_000), Some(60));
        assert_eq!(q.estimate_secs(1, 3, 120_000), Some(180));
        // Idle time with nobody waiting does not count against the team.
        q.leave(1, 0, &id(3), None);
        q.join(1, 10_000_000, &id(4));
        q.leave(1, 10_000_000, &id(4), Some(10_060_000));
        assert_eq!(q.estimate_secs(1, 1, 10_060_000), Some(60));
        // Hours later, the old pace says nothing.
        assert_eq!(q.estimate_secs(1, 1, 10_060_000 + SAMPLE_MAX_AGE + 1), None);
    }
}

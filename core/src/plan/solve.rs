//! The assignment, exactly: each workload to one of its options (some devices of a pool, or
//! rented devices) or to none, within the pools' capacities, meeting as many workloads' targets
//! as possible and, among those, at the least cost per hour.
//!
//! An exhaustive branch and bound: workloads in order, each trying its options cheapest first
//! and then "unmet"; a branch is cut when what it has spent plus each remaining workload's
//! cheapest option (capacity ignored), with the workloads that have no option counted unmet,
//! cannot beat the best complete assignment found. The bound never overestimates, so the answer
//! is the optimum. A plan holds at most [`super::input::MAX_ENTRIES`] workloads and pools, so
//! the search stays small; no solver crate is needed (an integer program would answer the same
//! and add a dependency to the browser build). Ties: the assignment found first, workloads in
//! order, options cheapest first and in their given order among equals.

/// One way a workload can run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Choice {
    /// The pool whose devices it uses; `None`: rented (no capacity).
    pub(super) pool: Option<usize>,
    /// Devices it uses.
    pub(super) devices: u32,
    /// What it adds per hour, USD.
    pub(super) usd_per_hour: f64,
}

/// The problem: pool capacities and each workload's choices.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Table {
    /// Devices per pool.
    pub(super) capacity: Vec<u32>,
    /// Per workload, its choices.
    pub(super) choices: Vec<Vec<Choice>>,
}

/// An assignment.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Solution {
    /// Per workload, the index of its choice in the table; `None`: unmet.
    pub(super) picks: Vec<Option<usize>>,
    /// Workloads unmet.
    pub(super) unmet: usize,
    /// Cost per hour of the choices, USD.
    pub(super) usd_per_hour: f64,
}

/// Relative tolerance under which two costs are equal (the first found is kept).
const EPS: f64 = 1e-9;

/// Whether `a` (unmet, cost) is better than `b`: fewer unmet, or as many and cheaper beyond
/// rounding.
fn better(a: (usize, f64), b: (usize, f64)) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1 - EPS * b.1.abs().max(1.0))
}

/// The best assignment; with `force = Some((w, c))`, the best in which workload `w` takes its
/// choice `c`.
pub(super) fn solve(t: &Table, force: Option<(usize, usize)>) -> Solution {
    // Each workload's choices, cheapest first (stable: the given order among equals).
    let order: Vec<Vec<usize>> = t
        .choices
        .iter()
        .enumerate()
        .map(|(w, cs)| match force {
            Some((fw, c)) if fw == w => vec![c],
            _ => {
                let mut idx: Vec<usize> = (0..cs.len()).collect();
                idx.sort_by(|&a, &b| cs[a].usd_per_hour.total_cmp(&cs[b].usd_per_hour));
                idx
            }
        })
        .collect();
    // What the workloads from `w` on add at least: their cheapest choices, and those with none.
    let n = t.choices.len();
    let mut floor = vec![(0usize, 0.0f64); n + 1];
    for w in (0..n).rev() {
        let (unmet, cost) = floor[w + 1];
        floor[w] = match order[w].first() {
            Some(&c) => (unmet, cost + t.choices[w][c].usd_per_hour),
            None => (unmet + 1, cost),
        };
    }
    let mut s = Search {
        t,
        order: &order,
        floor: &floor,
        forced: force.map(|f| f.0),
        left: t.capacity.clone(),
        picks: vec![None; n],
        best: None,
    };
    s.branch(0, 0, 0.0);
    s.best.unwrap_or(Solution { picks: vec![None; n], unmet: n, usd_per_hour: 0.0 })
}

struct Search<'a> {
    t: &'a Table,
    order: &'a [Vec<usize>],
    floor: &'a [(usize, f64)],
    forced: Option<usize>,
    left: Vec<u32>,
    picks: Vec<Option<usize>>,
    best: Option<Solution>,
}

impl Search<'_> {
    fn branch(&mut self, w: usize, unmet: usize, cost: f64) {
        let (more_unmet, more_cost) = self.floor[w];
        if let Some(b) = &self.best
            && !better((unmet + more_unmet, cost + more_cost), (b.unmet, b.usd_per_hour))
        {
            return;
        }
        if w == self.picks.len() {
            self.best = Some(Solution { picks: self.picks.clone(), unmet, usd_per_hour: cost });
            return;
        }
        for i in 0..self.order[w].len() {
            let c = self.order[w][i];
            let choice = self.t.choices[w][c];
            if let Some(p) = choice.pool {
                if self.left[p] < choice.devices {
                    continue;
                }
                self.left[p] -= choice.devices;
            }
            self.picks[w] = Some(c);
            self.branch(w + 1, unmet, cost + choice.usd_per_hour);
            self.picks[w] = None;
            if let Some(p) = choice.pool {
                self.left[p] += choice.devices;
            }
        }
        // Unmet: always possible, except for the workload an alternative forces.
        if self.forced != Some(w) {
            self.branch(w + 1, unmet + 1, cost);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(pool: usize, devices: u32, usd_per_hour: f64) -> Choice {
        Choice { pool: Some(pool), devices, usd_per_hour }
    }

    fn rent(usd_per_hour: f64) -> Choice {
        Choice { pool: None, devices: 1, usd_per_hour }
    }

    #[test]
    fn each_workload_takes_its_cheapest_choice_when_capacity_allows() {
        // Pools of 8 and 4. A: pool 0 with 1 device at $0.03 or pool 1 with 1 at $0.08;
        // B: pool 1 with 2 at $0.15 or rent at $1.50. Nothing binds: $0.03 + $0.15 = $0.18.
        let t = Table {
            capacity: vec![8, 4],
            choices: vec![vec![pool(0, 1, 0.03), pool(1, 1, 0.08)], vec![pool(1, 2, 0.15), rent(1.5)]],
        };
        let s = solve(&t, None);
        assert_eq!(s.picks, vec![Some(0), Some(0)]);
        assert_eq!(s.unmet, 0);
        assert!((s.usd_per_hour - 0.18).abs() < 1e-12);
    }

    #[test]
    fn capacity_forces_the_second_best_plan() {
        // One pool of 4. A needs 3 of them ($0.30) or rents ($1.00); B needs 2 ($0.20) or
        // rents ($2.00). Both cannot fit (5 > 4): A rents and B takes the pool, $1.20, beats
        // B renting and A on the pool, $2.30.
        let t = Table {
            capacity: vec![4],
            choices: vec![vec![pool(0, 3, 0.3), rent(1.0)], vec![pool(0, 2, 0.2), rent(2.0)]],
        };
        let s = solve(&t, None);
        assert_eq!(s.picks, vec![Some(1), Some(0)]);
        assert!((s.usd_per_hour - 1.2).abs() < 1e-12);
        // Forced onto the pool, A pushes B to rent: $2.30.
        let f = solve(&t, Some((0, 0)));
        assert_eq!(f.picks, vec![Some(0), Some(1)]);
        assert!((f.usd_per_hour - 2.3).abs() < 1e-12);
    }

    #[test]
    fn meeting_more_targets_beats_a_cheaper_plan() {
        // No renting: A fits only on the pool (3 of 4), B only on it too (2 of 4). One of them
        // goes unmet; B's $0.20 is cheaper than A's $0.30, so A is unmet.
        let t = Table { capacity: vec![4], choices: vec![vec![pool(0, 3, 0.3)], vec![pool(0, 2, 0.2)]] };
        let s = solve(&t, None);
        assert_eq!((s.picks.clone(), s.unmet), (vec![None, Some(0)], 1));
        // A workload with no choice at all is unmet, and the others are still placed.
        let t = Table { capacity: vec![4], choices: vec![vec![], vec![pool(0, 2, 0.2)]] };
        assert_eq!(solve(&t, None).picks, vec![None, Some(0)]);
    }

    #[test]
    fn ties_go_to_the_earlier_choice() {
        let t = Table { capacity: vec![2, 2], choices: vec![vec![pool(1, 1, 0.0), pool(0, 1, 0.0)]] };
        assert_eq!(solve(&t, None).picks, vec![Some(0)]);
    }

    #[test]
    fn the_search_is_exact_on_a_crowded_instance() {
        // Six workloads, two pools of 5; each needs 2 or 3 devices on either pool, or rents.
        // Brute force over every assignment agrees with the branch and bound.
        let choices: Vec<Vec<Choice>> = (0..6u32)
            .map(|w| {
                let d = 2 + w % 2;
                let f = f64::from(w);
                vec![pool(0, d, 0.1 * f + 0.05), pool(1, d, 0.3 - 0.04 * f), rent(1.0 + 0.1 * f)]
            })
            .collect();
        let t = Table { capacity: vec![5, 5], choices };
        let s = solve(&t, None);
        let mut best = f64::INFINITY;
        for code in 0..3usize.pow(6) {
            let mut left = [5u32, 5];
            let mut cost = 0.0;
            let mut ok = true;
            for w in 0..6 {
                let c = t.choices[w][(code / 3usize.pow(w as u32)) % 3];
                if let Some(p) = c.pool {
                    ok &= left[p] >= c.devices;
                    left[p] = left[p].saturating_sub(c.devices);
                }
                cost += c.usd_per_hour;
            }
            if ok {
                best = best.min(cost);
            }
        }
        assert_eq!(s.unmet, 0);
        assert!((s.usd_per_hour - best).abs() < 1e-12, "{} vs {best}", s.usd_per_hour);
    }
}

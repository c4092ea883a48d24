//! Independent work split over the machine's cores, results in order.

/// `f` applied to each item, in item order. From `from` items on, the items
/// are cut into one contiguous run per core (at most 8), the calling thread
/// taking the first run; below that, or on one core, everything runs here.
/// The core count is only asked for when it can matter: on Linux it reads
/// cgroup files, a cost a one-canary run should not pay.
pub fn map<T: Sync, R: Send>(items: &[T], from: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < from.max(2) {
        return items.iter().map(&f).collect();
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let mut runs = items.chunks(chunk);
        let first = runs.next().unwrap_or_default();
        let others: Vec<_> = runs
            .map(|run| scope.spawn(move || run.iter().map(f).collect::<Vec<_>>()))
            .collect();
        let mut out: Vec<R> = Vec::with_capacity(items.len());
        out.extend(first.iter().map(f));
        for h in others {
            out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_are_in_order_whatever_the_split() {
        for n in [0, 1, 2, 15, 16, 17, 1_001] {
            let items: Vec<usize> = (0..n).collect();
            let want: Vec<usize> = items.iter().map(|i| i * 3).collect();
            for from in [0, 16, usize::MAX] {
                assert_eq!(
                    super::map(&items, from, |i| i * 3),
                    want,
                    "n={n} from={from}"
                );
            }
        }
    }
}

package ferry.train.channel;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How objects are dealt to hosts and ordered, deterministically (CONTRACT.md section 4). ShardedByS3Key: the items
 * are taken in key order (or, with a shuffle seed, in the order {@link #permutation} gives for the epoch) and item
 * {@code i} goes to host {@code i mod n}. Every host computes the same deal, so the hosts' shares are disjoint and
 * together cover every item exactly once.
 */
public final class Sharding {
    private Sharding() {}

    /**
     * The share of host {@code hostIndex} (from 0) of {@code hostCount}.
     *
     * @param sorted the items in key order
     * @param seed {@code ShuffleConfig.Seed}, or {@code null} for key order
     * @param epoch the epoch whose order to use (File mode uses epoch 0)
     */
    public static <T> List<T> share(List<T> sorted, int hostIndex, int hostCount, Long seed, int epoch) {
        if (hostCount < 1 || hostIndex < 0 || hostIndex >= hostCount) {
            throw new IllegalArgumentException("host " + hostIndex + " is not one of " + hostCount + " hosts");
        }
        List<T> ordered = ordered(sorted, seed, epoch);
        List<T> share = new ArrayList<>();
        for (int i = hostIndex; i < ordered.size(); i += hostCount) {
            share.add(ordered.get(i));
        }
        return share;
    }

    /** The items in the order of an epoch: key order without a seed, else the seeded permutation. */
    public static <T> List<T> ordered(List<T> sorted, Long seed, int epoch) {
        if (seed == null) {
            return List.copyOf(sorted);
        }
        int[] order = permutation(seed, epoch, sorted.size());
        List<T> ordered = new ArrayList<>(sorted.size());
        for (int index : order) {
            ordered.add(sorted.get(index));
        }
        return ordered;
    }

    /**
     * A permutation of {@code 0..n-1} derived from (seed, epoch) alone: a Fisher-Yates shuffle driven by
     * {@link SplittableRandom} seeded with {@code seed * 0x9E3779B97F4A7C15 + epoch}. The same on every host and
     * every run; a different order each epoch.
     */
    public static int[] permutation(long seed, int epoch, int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }
}

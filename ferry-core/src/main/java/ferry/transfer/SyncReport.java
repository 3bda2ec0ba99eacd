package ferry.transfer;

import ferry.store.PassedOver;
import java.time.Duration;
import java.util.List;

/**
 * What a sync did (or, in a dry run, would do).
 *
 * @param copied objects and bytes sent because they were new or had changed
 * @param skipped objects and bytes already the same at the destination
 * @param leftOut source objects the filters left out (outside the globs, or the size and age bounds), whose recorded
 *     state is kept
 * @param deleted objects removed from the destination because the source no longer has them
 * @param failures each object that failed, by key
 * @param passedOver the source's entries that are not objects (a local folder's links to folders, named pipes),
 *     neither copied nor, at the destination, deleted
 * @param deletesWithheld deletions not done because some transfer failed (a failed run deletes nothing)
 * @param plan in a dry run, every action it would take; empty otherwise
 */
public record SyncReport(
        String source,
        String destination,
        boolean dryRun,
        Count copied,
        Count skipped,
        long leftOut,
        Count deleted,
        List<Failure> failures,
        List<PassedOver> passedOver,
        long deletesWithheld,
        List<Action> plan,
        Duration elapsed) {
    /** A number of objects and their bytes. */
    public record Count(long objects, long bytes) {}

    /**
     * One planned action.
     *
     * @param action {@code copy} (new), {@code update} (changed), {@code delete}
     * @param reason why, such as "size differs"
     */
    public record Action(String key, String action, long size, String reason) {}

    public boolean succeeded() {
        return failures.isEmpty();
    }

    public double bytesPerSecond() {
        return copied.bytes() / Math.max(elapsed.toNanos() / 1e9, 1e-9);
    }
}

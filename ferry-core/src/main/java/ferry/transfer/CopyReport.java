package ferry.transfer;

import ferry.store.PassedOver;
import java.time.Duration;
import java.util.List;

/**
 * What a copy did: objects and bytes copied, failures by key, the source's entries passed over as not objects, and
 * how long it took.
 */
public record CopyReport(
        String source,
        String destination,
        long objects,
        long bytes,
        List<Failure> failures,
        List<PassedOver> passedOver,
        Duration elapsed) {
    public boolean succeeded() {
        return failures.isEmpty();
    }

    public double bytesPerSecond() {
        double seconds = Math.max(elapsed.toNanos(), 1) / 1e9;
        return bytes / seconds;
    }

    public double objectsPerSecond() {
        double seconds = Math.max(elapsed.toNanos(), 1) / 1e9;
        return objects / seconds;
    }
}

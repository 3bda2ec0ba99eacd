package ferry.dataset;

import ferry.transfer.Failure;
import java.time.Duration;
import java.util.List;

/** The result of re-reading every object of a dataset version: what was checked and each mismatch by key. */
public record VerifyReport(String dataset, long objects, long bytes, List<Failure> mismatches, Duration elapsed) {
    public boolean succeeded() {
        return mismatches.isEmpty();
    }
}

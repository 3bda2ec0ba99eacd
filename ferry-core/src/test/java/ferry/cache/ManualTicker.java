package ferry.cache;

import ferry.time.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Time that moves only when a test says so. */
final class ManualTicker implements Ticker {
    private final AtomicLong now = new AtomicLong();

    @Override
    public long nanoTime() {
        return now.get();
    }

    @Override
    public void sleepNanos(long nanos) {
        now.addAndGet(nanos);
    }

    void advance(Duration duration) {
        now.addAndGet(duration.toNanos());
    }
}

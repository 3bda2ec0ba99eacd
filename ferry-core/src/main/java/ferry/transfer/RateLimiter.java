package ferry.transfer;

import ferry.store.Location;
import ferry.time.Ticker;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A byte budget per second shared by every transfer of a run: each caller reserves the bytes it is about to move
 * and waits until the budget allows them. Reservations are granted in order, so the rate holds over the whole run
 * however many transfers share it. Budget left unused is kept for at most {@link #BURST_NANOS}, so an idle moment
 * cannot be made up by a long burst above the rate.
 */
public final class RateLimiter {
    /** A limiter that never waits. */
    public static final RateLimiter UNLIMITED = new RateLimiter(Long.MAX_VALUE, Ticker.SYSTEM);

    static final long BURST_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final long bytesPerSecond;
    private final Ticker ticker;
    private final ReentrantLock lock = new ReentrantLock();
    private long nextFreeNanos;

    public RateLimiter(long bytesPerSecond, Ticker ticker) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("a bandwidth limit must be positive, was " + bytesPerSecond);
        }
        this.bytesPerSecond = bytesPerSecond;
        this.ticker = ticker;
        this.nextFreeNanos = ticker.nanoTime() - BURST_NANOS;
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** A stream whose reads wait for this limiter's budget; the stream itself when there is no limit. */
    public InputStream pace(InputStream in) {
        if (this == UNLIMITED) {
            return in;
        }
        return new FilterInputStream(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                // Ask for the budget in slices, so one large read does not hold the whole budget at once.
                int n = in.read(b, off, Math.min(len, 64 * 1024));
                if (n > 0) {
                    try {
                        acquire(n);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while pacing a transfer");
                    }
                }
                return n;
            }
        };
    }

    /** {@link #pace} for bytes read from {@code location} when it is in an object store; local reads go unpaced. */
    public InputStream paceFrom(Location location, InputStream in) {
        return location.isLocal() ? in : pace(in);
    }

    /** Waits until {@code bytes} more may be moved without exceeding the rate. */
    public void acquire(long bytes) throws InterruptedException {
        if (bytesPerSecond == Long.MAX_VALUE || bytes <= 0) {
            return;
        }
        long cost = (long) (bytes * 1e9 / bytesPerSecond);
        long wait;
        lock.lock();
        try {
            long now = ticker.nanoTime();
            long start = Math.max(nextFreeNanos, now - BURST_NANOS);
            nextFreeNanos = start + cost;
            wait = nextFreeNanos - now;
        } finally {
            lock.unlock();
        }
        if (wait > 0) {
            ticker.sleepNanos(wait);
        }
    }
}

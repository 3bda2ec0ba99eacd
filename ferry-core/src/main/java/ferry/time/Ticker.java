package ferry.time;

import java.util.concurrent.TimeUnit;

/**
 * Nanosecond time and waiting. Code that paces or times itself takes a ticker, so tests can drive time by hand
 * instead of sleeping; {@link #SYSTEM} is the only place that reads the system's clock.
 */
public interface Ticker {
    Ticker SYSTEM = new Ticker() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleepNanos(long nanos) throws InterruptedException {
            TimeUnit.NANOSECONDS.sleep(nanos);
        }
    };

    long nanoTime();

    void sleepNanos(long nanos) throws InterruptedException;
}

package ferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.time.Ticker;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    /** Time that moves only when someone waits. */
    static final class ManualTicker implements Ticker {
        long now = 1_000_000_000_000L;

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void sleepNanos(long nanos) {
            now += nanos;
        }
    }

    @Test
    void many_small_acquires_hold_the_rate_within_ten_percent() throws Exception {
        ManualTicker ticker = new ManualTicker();
        RateLimiter limiter = new RateLimiter(10_000_000, ticker); // 10 MB/s
        long start = ticker.now;
        long moved = 0;
        for (int i = 0; i < 10_000; i++) {
            limiter.acquire(10_000);
            moved += 10_000;
        }
        double seconds = (ticker.now - start) / 1e9;
        assertThat(moved / seconds).isBetween(9_000_000.0, 11_000_000.0);
    }

    @Test
    void idle_time_is_not_saved_up_for_a_long_burst() throws Exception {
        ManualTicker ticker = new ManualTicker();
        RateLimiter limiter = new RateLimiter(1_000_000, ticker);
        ticker.now += 60_000_000_000L; // a minute idle
        long start = ticker.now;
        limiter.acquire(2_000_000);
        // Two seconds' worth of bytes must take about two seconds, less at most the small burst allowance.
        assertThat(ticker.now - start).isGreaterThanOrEqualTo(2_000_000_000L - RateLimiter.BURST_NANOS);
    }

    @Test
    void a_limit_must_be_positive() {
        assertThatThrownBy(() -> new RateLimiter(0, Ticker.SYSTEM)).hasMessageContaining("positive");
    }
}

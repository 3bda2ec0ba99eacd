package ferry.cli;

import java.time.Duration;
import java.util.Locale;

/** Human-readable sizes, rates and durations for terminal output. */
final class Units {
    private static final String[] BINARY = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private Units() {}

    static String bytes(double bytes) {
        int unit = 0;
        while (bytes >= 1024 && unit < BINARY.length - 1) {
            bytes /= 1024;
            unit++;
        }
        return unit == 0 ? String.format(Locale.ROOT, "%.0f B", bytes)
                : String.format(Locale.ROOT, "%.1f %s", bytes, BINARY[unit]);
    }

    static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.2f s", duration.toNanos() / 1e9);
    }

    static double secondsOf(Duration duration) {
        return Math.round(duration.toNanos() / 1e6) / 1e3;
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}

package ferry.cli;

import ferry.cache.ChunkCache;
import ferry.s3.S3Config;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parsers for sizes ({@code 10MB}, {@code 1.5GiB}), rates ({@code 200MB/s}) and ages ({@code 24h}, a date). */
final class Sizes {
    private static final Pattern SIZE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([kmgtp]?)(i?)b?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern AGE = Pattern.compile("([0-9]+)\\s*([smhdw])", Pattern.CASE_INSENSITIVE);

    private Sizes() {}

    /** The budget of a cache never given one. */
    static final long DEFAULT_CACHE_BUDGET = 10L << 30;

    /** {@code --cache-size} if given (refused unless positive), else the cache's recorded budget, else 10 GiB. */
    static long cacheBudget(Long given, Path cacheDir) {
        if (given == null) {
            return ChunkCache.recordedBudget(cacheDir, DEFAULT_CACHE_BUDGET);
        }
        if (given <= 0) {
            throw new IllegalArgumentException("--cache-size must be positive, was " + given);
        }
        return given;
    }

    /** Bytes in a size such as {@code 512}, {@code 10MB} (10^6), {@code 10MiB} (2^20) or {@code 1.5G}. */
    static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text
                    + "' is not a size: write a number with an optional unit, such as 512, 10MB, 64MiB or 1.5G");
        }
        if (m.group(2).isEmpty() && !m.group(3).isEmpty()) {
            throw new CommandLine.TypeConversionException("'" + text
                    + "' is not a size: 'i' belongs after a unit, as in 64MiB");
        }
        double number = Double.parseDouble(m.group(1));
        int power = m.group(2).isEmpty() ? 0 : "kmgtp".indexOf(m.group(2).toLowerCase(Locale.ROOT)) + 1;
        double base = m.group(3).isEmpty() ? 1000 : 1024;
        return (long) (number * Math.pow(base, power));
    }

    /**
     * A size as an option takes it, of one decimal in the largest binary unit that fits ({@code 7.0MiB}), rounded
     * up: what to suggest when a size was too small, so that giving it is enough.
     */
    static String atLeast(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int unit = 0;
        while (unit < units.length - 1 && bytes >= 1L << (10 * (unit + 1))) {
            unit++;
        }
        if (unit == 0) {
            return bytes + "B";
        }
        double tenths = Math.ceil(bytes * 10.0 / (1L << (10 * unit)));
        return String.format(Locale.ROOT, "%.1f%s", tenths / 10, units[unit]);
    }

    /** A size, for options such as --min-size. */
    static final class Bytes implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return parseBytes(value);
        }
    }

    /** The part size of S3 multipart uploads and reads in parts: within what S3 allows, and what Ferry holds. */
    static final class PartSize implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long bytes = parseBytes(value);
            if (bytes < S3Config.MIN_PART_SIZE || bytes > S3Config.MAX_PART_SIZE) {
                throw new CommandLine.TypeConversionException("a part size must be between 5MiB (S3's smallest part)"
                        + " and 1GiB, was '" + value + "'");
            }
            return bytes;
        }
    }

    /** A rate such as {@code 200MB/s}; the {@code /s} is optional. */
    static final class Rate implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String bytes = value.strip().toLowerCase(Locale.ROOT).endsWith("/s")
                    ? value.strip().substring(0, value.strip().length() - 2) : value;
            long rate = parseBytes(bytes);
            if (rate <= 0) {
                throw new CommandLine.TypeConversionException("a bandwidth limit must be positive, was '" + value + "'");
            }
            return rate;
        }
    }

    /** A point in time given as an age ({@code 90s}, {@code 30m}, {@code 24h}, {@code 7d}, {@code 2w}) or a date. */
    static Instant parseSince(String text, Instant now) {
        Matcher m = AGE.matcher(text.strip());
        if (m.matches()) {
            try {
                long n = Long.parseLong(m.group(1));
                Duration age = switch (m.group(2).toLowerCase(Locale.ROOT)) {
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    case "d" -> Duration.ofDays(n);
                    default -> Duration.ofDays(Math.multiplyExact(7, n));
                };
                return now.minus(age);
            } catch (NumberFormatException | ArithmeticException | DateTimeException e) {
                // digits past a long, or an age reaching before the first instant Java has, are a usage error too
                throw new CommandLine.TypeConversionException("'" + text + "' is too long for an age or a duration:"
                        + " write 24h, 7d or 52w");
            }
        }
        try {
            return text.length() == 10 ? Instant.parse(text + "T00:00:00Z") : Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not an age or a date: write 24h, 7d,"
                    + " 2026-01-31 or 2026-01-31T12:00:00Z");
        }
    }

    /** A duration such as {@code 90s}, {@code 30m}, {@code 24h}, {@code 7d}. */
    static Duration parseDuration(String text) {
        Matcher m = AGE.matcher(text.strip());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a duration: write 90s, 30m, 24h or 7d");
        }
        Instant epoch = Instant.EPOCH.plus(Duration.ofDays(365 * 100));
        return Duration.between(parseSince(text, epoch), epoch);
    }
}

package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SizesTest {
    @Test
    void sizes_read_as_written_with_decimal_and_binary_units() {
        assertThat(Sizes.parseBytes("512")).isEqualTo(512);
        assertThat(Sizes.parseBytes("1")).isEqualTo(1);
        assertThat(Sizes.parseBytes("10B")).isEqualTo(10);
        assertThat(Sizes.parseBytes("1KB")).isEqualTo(1_000);
        assertThat(Sizes.parseBytes("10MB")).isEqualTo(10_000_000);
        assertThat(Sizes.parseBytes("64MiB")).isEqualTo(64L << 20);
        assertThat(Sizes.parseBytes("1.5G")).isEqualTo(1_500_000_000L);
        assertThat(Sizes.parseBytes("2 TiB")).isEqualTo(2L << 40);
        assertThat(new Sizes.Rate().convert("200MB/s")).isEqualTo(200_000_000L);
        assertThat(new Sizes.Rate().convert("4096")).isEqualTo(4096L);
    }

    @Test
    void a_suggested_size_reads_back_as_at_least_the_bytes_it_was_made_for_and_not_much_more() {
        assertThat(Sizes.atLeast(7_263_000)).isEqualTo("7.0MiB");
        assertThat(Sizes.atLeast(1L << 30)).isEqualTo("1.0GiB");
        assertThat(Sizes.atLeast((1L << 30) + 1)).isEqualTo("1.1GiB");
        assertThat(Sizes.atLeast(700)).isEqualTo("700B");
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < 100_000; i++) {
            long bytes = random.nextLong(1, 1L << (1 + random.nextInt(50)));
            long read = Sizes.parseBytes(Sizes.atLeast(bytes));
            assertThat(read).as(Sizes.atLeast(bytes)).isGreaterThanOrEqualTo(bytes)
                    .isLessThanOrEqualTo(Math.max(bytes + 1024, (long) (bytes * 1.1)));
        }
    }

    @Test
    void nonsense_is_refused_saying_what_a_size_looks_like() {
        for (String bad : new String[] {"lots", "10i", "5iB", "MB", "-1"}) {
            assertThatThrownBy(() -> Sizes.parseBytes(bad)).as(bad)
                    .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("is not a size");
        }
    }

    @Test
    void an_age_or_duration_too_long_to_count_is_refused_as_a_usage_error() {
        for (String bad : new String[] {"999999999999d", "99999999999999999999d", "9999999999999w",
                "9223372036854775807w"}) {
            assertThatThrownBy(() -> Sizes.parseSince(bad, java.time.Instant.now())).as(bad)
                    .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("is too long");
            assertThatThrownBy(() -> Sizes.parseDuration(bad)).as(bad)
                    .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("is too long");
        }
        assertThat(Sizes.parseDuration("52w")).isEqualTo(java.time.Duration.ofDays(364));
    }
}

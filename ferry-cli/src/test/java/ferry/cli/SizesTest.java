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
    void nonsense_is_refused_saying_what_a_size_looks_like() {
        for (String bad : new String[] {"lots", "10i", "5iB", "MB", "-1"}) {
            assertThatThrownBy(() -> Sizes.parseBytes(bad)).as(bad)
                    .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageContaining("is not a size");
        }
    }
}

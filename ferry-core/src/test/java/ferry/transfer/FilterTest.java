package ferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class FilterTest {
    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void describe_names_the_filters_as_the_command_line_gives_them() {
        assertThat(Filter.ALL.describe()).isEmpty();
        assertThat(new Filter(List.of("*.jpg"), List.of("/logs/**"), 1024, 4096, T).describe())
                .isEqualTo("--include '*.jpg' --exclude '/logs/**' --min-size 1024 --max-size 4096"
                        + " --newer-than 2026-01-01T00:00:00Z");
    }

    @Test
    void a_glob_without_slash_matches_the_file_name_at_any_depth() {
        Filter.Predicate filter = new Filter(List.of(), List.of("*.tmp"), 0, Long.MAX_VALUE, null).compile();
        assertThat(filter.test("a.tmp", 1, T)).isFalse();
        assertThat(filter.test("deep/er/b.tmp", 1, T)).isFalse();
        assertThat(filter.test("deep/b.tmpx", 1, T)).isTrue();
    }

    @Test
    void a_glob_with_slash_matches_the_whole_key() {
        Filter.Predicate filter = new Filter(List.of("train/**"), List.of(), 0, Long.MAX_VALUE, null).compile();
        assertThat(filter.test("train/cat/1.png", 1, T)).isTrue();
        assertThat(filter.test("test/cat/1.png", 1, T)).isFalse();
    }

    @Test
    void a_leading_slash_anchors_a_glob_at_the_root_as_in_rsync_and_rclone() {
        Filter.Predicate filter =
                new Filter(List.of(), List.of("/*.tmp", "/logs/**"), 0, Long.MAX_VALUE, null).compile();
        assertThat(filter.inScope("a.tmp")).isFalse();
        assertThat(filter.inScope("deep/a.tmp")).isTrue();
        assertThat(filter.inScope("logs/2026/01.log")).isFalse();
        assertThat(filter.inScope("run/logs/01.log")).isTrue();
    }

    @Test
    void a_glob_that_can_match_no_key_is_refused_with_what_to_write_instead() {
        // Keys never end in '/': 'logs/' would match nothing, and --delete would then take what it meant to keep.
        assertThatThrownBy(() -> new Filter(List.of(), List.of("logs/"), 0, Long.MAX_VALUE, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'logs/'")
                .hasMessageContaining("'logs/**'");
        assertThatThrownBy(() -> new Filter(List.of("/"), List.of(), 0, Long.MAX_VALUE, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'/'");
    }

    @Test
    void sizes_and_age_bound_what_is_taken() {
        Filter.Predicate filter = new Filter(List.of(), List.of(), 10, 100, T).compile();
        assertThat(filter.test("x", 9, T.plusSeconds(1))).isFalse();
        assertThat(filter.test("x", 101, T.plusSeconds(1))).isFalse();
        assertThat(filter.test("x", 50, T)).isFalse();
        assertThat(filter.test("x", 50, T.plusSeconds(1))).isTrue();
    }

    @Test
    void bad_bounds_and_globs_are_refused_by_name() {
        assertThatThrownBy(() -> new Filter(List.of(), List.of(), 10, 5, null)).hasMessageContaining("min-size");
        assertThatThrownBy(() -> new Filter(List.of("[a-"), List.of(), 0, 1, null)).hasMessageContaining("'[a-'");
    }
}

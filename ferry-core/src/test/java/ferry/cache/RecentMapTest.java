package ferry.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Holds at most its capacity, dropping the entry used least recently. */
class RecentMapTest {
    @Test
    void drops_the_least_recently_used_entry_beyond_its_capacity() {
        RecentMap<String, Integer> map = new RecentMap<>(2);
        map.computeIfAbsent("a", k -> 1);
        map.computeIfAbsent("b", k -> 2);
        assertThat(map.get("a")).isEqualTo(1); // now "b" is the least recently used

        map.computeIfAbsent("c", k -> 3);

        assertThat(map.size()).isEqualTo(2);
        assertThat(map.get("b")).isNull();
        assertThat(map.get("a")).isEqualTo(1);
        assertThat(map.get("c")).isEqualTo(3);
    }

    @Test
    void compute_if_absent_keeps_the_value_there_merge_decides_between_two_and_put_replaces() {
        RecentMap<String, String> map = new RecentMap<>(10);
        assertThat(map.computeIfAbsent("k", k -> "first")).isEqualTo("first");
        assertThat(map.computeIfAbsent("k", k -> "second")).isEqualTo("first");

        assertThat(map.merge("k", "third", (old, now) -> old + "+" + now)).isEqualTo("first+third");
        assertThat(map.merge("new", "alone", (old, now) -> old + "+" + now)).isEqualTo("alone");

        assertThat(map.put("k", "fourth")).as("the value it replaces").isEqualTo("first+third");
        assertThat(map.put("other", "x")).isNull();
        assertThat(map.get("k")).isEqualTo("fourth");
    }

    @Test
    void refuses_a_capacity_that_could_hold_nothing() {
        assertThatThrownBy(() -> new RecentMap<>(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("capacity");
    }

    @Test
    void many_entries_stay_within_the_capacity() {
        RecentMap<Integer, Integer> map = new RecentMap<>(100);
        for (int i = 0; i < 10_000; i++) {
            map.computeIfAbsent(i, k -> k);
        }
        assertThat(map.size()).isEqualTo(100);
        assertThat(map.get(9_999)).isEqualTo(9_999);
        assertThat(map.get(0)).isNull();
    }
}

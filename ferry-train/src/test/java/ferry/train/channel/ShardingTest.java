package ferry.train.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The deal of ShardedByS3Key (CONTRACT.md section 4): disjoint, complete, deterministic. */
class ShardingTest {
    private static final List<String> KEYS = IntStream.range(0, 103).mapToObj(i -> String.format("k%03d", i)).toList();

    @Test
    void key_i_goes_to_host_i_mod_n() {
        assertThat(Sharding.share(KEYS, 0, 3, null, 0)).startsWith("k000", "k003", "k006").hasSize(35);
        assertThat(Sharding.share(KEYS, 1, 3, null, 0)).startsWith("k001", "k004").hasSize(34);
        assertThat(Sharding.share(KEYS, 2, 3, null, 0)).startsWith("k002", "k005").hasSize(34);
    }

    @Test
    void every_host_count_and_seed_covers_every_key_exactly_once() {
        for (Long seed : new Long[] {null, 0L, 42L, -7L}) {
            for (int hosts = 1; hosts <= 7; hosts++) {
                List<String> all = new ArrayList<>();
                for (int host = 0; host < hosts; host++) {
                    all.addAll(Sharding.share(KEYS, host, hosts, seed, 0));
                }
                assertThat(all).as("seed %s, %d hosts", seed, hosts).hasSize(KEYS.size())
                        .containsExactlyInAnyOrderElementsOf(KEYS);
            }
        }
    }

    @Test
    void a_seeded_order_is_the_same_on_every_call_and_changes_with_the_epoch() {
        List<String> epoch0 = Sharding.ordered(KEYS, 42L, 0);
        assertThat(Sharding.ordered(KEYS, 42L, 0)).isEqualTo(epoch0);
        assertThat(epoch0).isNotEqualTo(KEYS).containsExactlyInAnyOrderElementsOf(KEYS);
        assertThat(Sharding.ordered(KEYS, 42L, 1)).isNotEqualTo(epoch0);
        assertThat(Sharding.ordered(KEYS, 43L, 0)).isNotEqualTo(epoch0);
        int[] permutation = Sharding.permutation(42L, 0, 10);
        Set<Integer> seen = new HashSet<>();
        for (int i : permutation) {
            seen.add(i);
        }
        assertThat(seen).hasSize(10);
    }

    @Test
    void a_host_outside_the_host_count_is_refused() {
        assertThatThrownBy(() -> Sharding.share(KEYS, 2, 2, null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host 2 is not one of 2 hosts");
    }
}

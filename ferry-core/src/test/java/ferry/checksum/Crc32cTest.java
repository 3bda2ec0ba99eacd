package ferry.checksum;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class Crc32cTest {
    private static int crc(byte[] bytes, int from, int to) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, from, to - from);
        return (int) crc.getValue();
    }

    @Test
    void combining_the_crcs_of_two_parts_gives_the_crc_of_the_whole() {
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            byte[] bytes = new byte[random.nextInt(5_000)];
            random.nextBytes(bytes);
            int split = bytes.length == 0 ? 0 : random.nextInt(bytes.length + 1);
            int combined = Crc32c.combine(crc(bytes, 0, split), crc(bytes, split, bytes.length), bytes.length - split);
            assertThat(combined).as("length %d split at %d", bytes.length, split).isEqualTo(crc(bytes, 0, bytes.length));
        }
    }

    @Test
    void combining_many_chunks_in_order_gives_the_crc_of_the_whole() {
        byte[] bytes = new byte[3 * 1024 * 1024 + 123];
        new Random(3).nextBytes(bytes);
        int chunk = 1024 * 1024;
        int whole = crc(bytes, 0, Math.min(chunk, bytes.length));
        for (int from = chunk; from < bytes.length; from += chunk) {
            int to = Math.min(bytes.length, from + chunk);
            whole = Crc32c.combine(whole, crc(bytes, from, to), to - from);
        }
        assertThat(whole).isEqualTo(crc(bytes, 0, bytes.length));
    }

    @Test
    void a_changed_byte_changes_the_combined_crc() {
        byte[] bytes = new byte[10_000];
        new Random(5).nextBytes(bytes);
        int expected = crc(bytes, 0, bytes.length);
        bytes[9_000] ^= 1;
        assertThat(Crc32c.combine(crc(bytes, 0, 4_000), crc(bytes, 4_000, 10_000), 6_000)).isNotEqualTo(expected);
    }
}

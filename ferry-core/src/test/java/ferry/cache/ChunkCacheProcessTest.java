package ferry.cache;

import static ferry.cache.CacheFixtures.allocatedChunkBytes;
import static ferry.cache.CacheFixtures.content;
import static ferry.cache.CacheFixtures.put;
import static ferry.cache.CacheFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two processes on one cache folder: the ledger's file lock makes the budget hold for both together. */
class ChunkCacheProcessTest {
    /** Chunk files of 5,000 bytes take two blocks of 4 KiB: counting their sizes would overfill the budget. */
    private static final int DATA = 5000 - ChunkFormat.TRAILER_BYTES;
    private static final long BUDGET = 20 * 8192;

    @TempDir
    Path dir;

    private Process child;

    @AfterEach
    void stopChild() {
        if (child != null) {
            child.destroyForcibly();
        }
    }

    @Test
    void another_process_putting_at_the_same_time_keeps_the_folder_within_the_budget() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                ChunkPutter.class.getName(), dir.toString(), Long.toString(BUDGET), Integer.toString(DATA))
                .redirectErrorStream(true).start();
        BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream()));
        assertThat(output.readLine()).isEqualTo("ready");
        AtomicLong childPuts = new AtomicLong();
        StringBuilder other = new StringBuilder();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try {
                for (String line; (line = output.readLine()) != null; ) {
                    if (line.matches("[0-9]+")) {
                        childPuts.set(Long.parseLong(line));
                    } else {
                        other.append(line).append('\n');
                    }
                }
            } catch (java.io.IOException e) {
                other.append(e);
            }
        });

        int puts = 0;
        try (ChunkCache cache = ChunkCache.open(dir, BUDGET);
                Ledger ledger = Ledger.open(dir.resolve(CacheLayout.LEDGER))) {
            long childAtStart = childPuts.get();
            // Until both processes have put 200 chunks while this loop ran, so their puts interleave.
            while (puts < 200 || childPuts.get() - childAtStart < 200) {
                assertThat(puts).as("the child stopped putting: %s", other).isLessThan(100_000);
                ChunkKey key = new ChunkKey("parent", puts++);
                assertThat(put(cache, key, content(key, DATA))).isTrue();
                // Counted under the ledger lock, so the child cannot rename or evict chunks half way through.
                long held = ledger.locked(state -> allocatedChunkBytes(dir));
                assertThat(held).as("after parent put %d", puts).isLessThanOrEqualTo(BUDGET);
            }
            Files.createFile(dir.resolve("stop"));
            assertThat(child.waitFor()).as("child output: %s", other).isZero();
            reader.join();
        }
        assertThat(allocatedChunkBytes(dir)).isLessThanOrEqualTo(BUDGET);

        try (ChunkCache fresh = ChunkCache.open(dir, BUDGET)) {
            int found = 0;
            for (String object : new String[] {"parent", "child"}) {
                for (int i = 0; i < Math.max(puts, childPuts.get()); i++) {
                    ChunkKey key = new ChunkKey(object, i);
                    byte[] bytes = read(fresh, key, DATA);
                    if (bytes != null) {
                        found++;
                        assertThat(bytes).as("%s", key).isEqualTo(content(key, DATA));
                    }
                }
            }
            assertThat(found).isBetween(18, 20);
            assertThat(fresh.status().thisProcess().corruptDropped()).isZero();
        }
    }
}

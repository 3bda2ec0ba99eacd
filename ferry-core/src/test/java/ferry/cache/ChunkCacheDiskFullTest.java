package ferry.cache;

import static ferry.cache.CacheFixtures.content;
import static ferry.cache.CacheFixtures.files;
import static ferry.cache.CacheFixtures.put;
import static ferry.cache.CacheFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache on a full disk: a 1 MiB tmpfs, mounted as root (as on CI); if it cannot be mounted the test fails. */
class ChunkCacheDiskFullTest {
    private static final int CHUNK = 300 * 1024;

    @TempDir
    Path folder;

    private Path small;

    @BeforeEach
    void mountSmallDisk() throws Exception {
        small = folder.resolve("small-disk");
        Files.createDirectories(small);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString())
                .redirectErrorStream(true).start();
        String output = new String(mount.getInputStream().readAllBytes());
        assertThat(mount.waitFor()).as("mount a 1 MiB tmpfs (needs root): %s", output).isZero();
    }

    @AfterEach
    void unmount() throws Exception {
        new ProcessBuilder("umount", small.toString()).inheritIO().start().waitFor();
    }

    @Test
    void a_full_disk_makes_put_return_false_leaving_nothing_partial_and_other_chunks_readable() throws Exception {
        try (CacheFixtures.Logs logs = new CacheFixtures.Logs();
                ChunkCache cache = ChunkCache.open(small.resolve("cache"), 100L << 20)) {
            int stored = 0;
            while (stored < 10 && put(cache, new ChunkKey("a", stored), content(new ChunkKey("a", stored), CHUNK))) {
                stored++;
            }
            assertThat(stored).as("chunks that fit before the disk filled").isBetween(1, 3);
            assertThat(put(cache, new ChunkKey("b", 0), content(new ChunkKey("b", 0), CHUNK))).isFalse();

            assertThat(files(small.resolve("cache"))).as("only whole chunks, no temporary files")
                    .allSatisfy(file -> assertThat(file.getFileName().toString()).matches("[0-9a-f]{64}\\.[0-9]+"))
                    .hasSize(stored);
            for (int i = 0; i < stored; i++) {
                ChunkKey key = new ChunkKey("a", i);
                assertThat(read(cache, key, CHUNK)).as("chunk %d", i).isEqualTo(content(key, CHUNK));
            }
            assertThat(cache.status().thisProcess().storeFailures()).isEqualTo(2);
            assertThat(logs.warnings()).as("logged once for both failures").singleElement().asString()
                    .contains("no space left on device").contains("serves it uncached");

            cache.invalidate("a");
            ChunkKey after = new ChunkKey("b", 0);
            assertThat(put(cache, after, content(after, CHUNK))).as("room again").isTrue();
            assertThat(read(cache, after, CHUNK)).isEqualTo(content(after, CHUNK));
        }
    }

    @Test
    void after_the_disk_is_found_full_puts_pause_for_a_second_instead_of_rescanning_the_folder_each_time()
            throws Exception {
        ManualTicker ticker = new ManualTicker();
        Path dir = small.resolve("cache");
        try (ChunkCache cache = ChunkCache.open(dir, 100L << 20, 8, ticker, Clock.systemUTC())) {
            int stored = 0;
            while (put(cache, new ChunkKey("a", stored), content(new ChunkKey("a", stored), CHUNK))) {
                stored++;
            }
            // Room appears behind this process's back (another process evicts a chunk).
            try (var chunks = Files.walk(dir.resolve(CacheLayout.CHUNKS))) {
                Files.delete(chunks.filter(p -> p.getFileName().toString().endsWith(".0")).findFirst().orElseThrow());
            }
            ChunkKey next = new ChunkKey("b", 0);

            assertThat(put(cache, next, content(next, CHUNK))).as("within the pause").isFalse();
            assertThat(files(dir)).as("nothing was written").hasSize(stored - 1);
            ticker.advance(Duration.ofNanos(ChunkCache.NO_SPACE_PAUSE_NANOS));
            assertThat(put(cache, next, content(next, CHUNK))).as("after the pause").isTrue();
            assertThat(read(cache, next, CHUNK)).isEqualTo(content(next, CHUNK));
        }
    }
}

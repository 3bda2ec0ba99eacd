package ferry.cache;

import static ferry.cache.CacheFixtures.allocatedChunkBytes;
import static ferry.cache.CacheFixtures.content;
import static ferry.cache.CacheFixtures.crc;
import static ferry.cache.CacheFixtures.files;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many threads on two caches over one folder, with a small budget and channel pool so eviction and reopening race. */
class ChunkCacheConcurrencyTest {
    private static final long SEED = 0x5EED_CAC4EL;
    private static final int THREADS = 8;
    private static final int OPERATIONS = 3_000;
    private static final int MAX_CHUNK = 8_192;
    private static final long BUDGET = 160_000;

    @TempDir
    Path dir;

    private static ChunkKey key(Random random) {
        return new ChunkKey("s3://bucket/object-" + random.nextInt(3) + "#v1", random.nextInt(20));
    }

    /** Each chunk has its own length, so a read served from the wrong file also shows in its count. */
    private static int length(ChunkKey key) {
        return 1 + Math.floorMod(key.hashCode(), MAX_CHUNK);
    }

    @Test
    void threads_reading_putting_and_invalidating_on_two_instances_never_see_wrong_bytes() throws Exception {
        Queue<String> wrong = new ConcurrentLinkedQueue<>();
        try (ChunkCache a = ChunkCache.open(dir, BUDGET, 4, new ManualTicker(), Clock.systemUTC());
                ChunkCache b = ChunkCache.open(dir, BUDGET, 4, new ManualTicker(), Clock.systemUTC())) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                long seed = SEED + t;
                done.add(pool.submit(() -> run(seed, new ChunkCache[] {a, b}, wrong)));
            }
            for (Future<?> future : done) {
                future.get();
            }
            pool.shutdown();
            assertThat(wrong).as("seed %s", Long.toHexString(SEED)).isEmpty();
            assertThat(a.status().thisProcess().corruptDropped() + b.status().thisProcess().corruptDropped())
                    .as("no torn chunk ever visible").isZero();
            assertThat(a.status().thisProcess().hits() + b.status().thisProcess().hits()).isPositive();
            assertThat(a.status().thisProcess().evictions() + b.status().thisProcess().evictions()).isPositive();
        }
        assertThat(files(dir)).as("no temporary files left")
                .allSatisfy(file -> assertThat(file.getFileName().toString()).matches("[0-9a-f]{64}\\.[0-9]+"));
        assertThat(allocatedChunkBytes(dir)).isLessThanOrEqualTo(BUDGET);

        try (ChunkCache fresh = ChunkCache.open(dir, BUDGET)) {
            // Every chunk left passes its whole-chunk check in a fresh instance and holds its key's bytes.
            for (int object = 0; object < 3; object++) {
                for (int index = 0; index < 20; index++) {
                    ChunkKey key = new ChunkKey("s3://bucket/object-" + object + "#v1", index);
                    ByteBuffer buffer = ByteBuffer.allocate(length(key));
                    if (fresh.read(key, 0, buffer) >= 0) {
                        assertThat(buffer.array()).as("%s", key).isEqualTo(content(key, length(key)));
                    }
                }
            }
            assertThat(fresh.status().thisProcess().hits()).isPositive();
            assertThat(fresh.status().thisProcess().corruptDropped()).isZero();
        }
    }

    private static void run(long seed, ChunkCache[] caches, Queue<String> wrong) {
        Random random = new Random(seed);
        ByteBuffer heap = ByteBuffer.allocate(MAX_CHUNK + 100);
        ByteBuffer direct = ByteBuffer.allocateDirect(MAX_CHUNK + 100);
        for (int op = 0; op < OPERATIONS; op++) {
            ChunkCache cache = caches[random.nextInt(caches.length)];
            ChunkKey key = key(random);
            int length = length(key);
            int choice = random.nextInt(100);
            if (choice < 25) {
                byte[] bytes = content(key, length);
                if (!cache.put(key, ByteBuffer.wrap(bytes), crc(bytes))) {
                    wrong.add("put of " + key + " failed (seed " + seed + ", operation " + op + ")");
                }
            } else if (choice < 26) {
                cache.invalidate(key.objectId());
            } else if (choice < 30) {
                cache.contains(key);
            } else {
                ByteBuffer dst = random.nextBoolean() ? heap : direct;
                int offset = random.nextInt(length + 1);
                int size = 1 + random.nextInt(MAX_CHUNK);
                int position = random.nextInt(50);
                dst.clear().position(position).limit(position + size);
                int read = cache.read(key, offset, dst);
                if (read >= 0) {
                    check(key, length, offset, size, position, dst, read, seed, op, wrong);
                }
            }
        }
    }

    private static void check(ChunkKey key, int length, int offset, int size, int position, ByteBuffer dst,
            int read, long seed, int op, Queue<String> wrong) {
        String where = key + " at " + offset + " (seed " + seed + ", operation " + op + ")";
        if (read != Math.min(size, length - offset) || dst.position() != position + read) {
            wrong.add("read " + read + " bytes of " + where + ", expected " + Math.min(size, length - offset));
            return;
        }
        byte[] expected = content(key, length);
        for (int i = 0; i < read; i++) {
            if (dst.get(position + i) != expected[offset + i]) {
                wrong.add("wrong byte " + (offset + i) + " of " + where);
                return;
            }
        }
    }
}

package ferry.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read path the mount takes for every FUSE read: once chunks are checked and open, a hit allocates nothing, also
 * when the reads go round as many chunks as a 1 GiB file has (1,024 of the mount's 1 MiB chunks): the default pool
 * keeps them all open, where one of 128 channels reopened a chunk file for nearly every read.
 */
class ChunkCacheHotPathTest {
    private static final int CHUNKS = 1024;
    private static final int CHUNK = 16 * 1024;
    private static final int READ = 4 * 1024;
    private static final int READS = 10_000;

    @TempDir
    Path dir;

    @Test
    void hits_allocate_nothing_per_read_into_heap_or_direct_buffers() throws Exception {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadAllocatedMemoryEnabled()).isTrue();
        ChunkKey[] keys = new ChunkKey[CHUNKS];
        try (ChunkCache cache = ChunkCache.open(dir, 1L << 30)) {
            for (int i = 0; i < CHUNKS; i++) {
                keys[i] = new ChunkKey("s3://bucket/big.bin#v1", i);
                CacheFixtures.put(cache, keys[i], CacheFixtures.content(keys[i], CHUNK));
            }
            for (ByteBuffer buffer : new ByteBuffer[] {ByteBuffer.allocate(READ), ByteBuffer.allocateDirect(READ)}) {
                readAll(cache, keys, buffer); // Opens the channels and fills the JDK's per-thread buffer cache.
                long before = threads.getCurrentThreadAllocatedBytes();
                readAll(cache, keys, buffer);
                long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                // Any allocation per read would come to at least 16 bytes times 10 000 reads.
                assertThat(allocated).as("bytes allocated by %d reads into a %s buffer", READS,
                        buffer.isDirect() ? "direct" : "heap").isLessThan(READS);
            }
            assertThat(cache.status().thisProcess().hits()).isEqualTo(4L * READS);
        }
    }

    private static void readAll(ChunkCache cache, ChunkKey[] keys, ByteBuffer buffer) {
        for (int i = 0; i < READS; i++) {
            buffer.clear();
            if (cache.read(keys[i % CHUNKS], (long) (i / CHUNKS % (CHUNK / READ)) * READ, buffer) != READ) {
                throw new AssertionError("read " + i + " missed or came up short");
            }
        }
    }
}

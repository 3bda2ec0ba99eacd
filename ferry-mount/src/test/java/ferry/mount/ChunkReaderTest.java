package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.cache.ChunkCache;
import ferry.cache.ChunkKey;
import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.local.LocalStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The read path without FUSE: chunks, sharing, read-ahead, version and checksum checks, the cache. */
class ChunkReaderTest {
    private static final int CHUNK = 64 * 1024;

    @TempDir
    Path folder;

    private CountingStore store;
    private ChunkCache cache;
    private ChunkReader reader;
    private final ExecutorService readers = Executors.newSingleThreadExecutor();

    @BeforeEach
    void setUp() throws IOException {
        store = new CountingStore(new LocalStore());
        cache = ChunkCache.open(folder.resolve("cache"), 1L << 30);
        reader = new ChunkReader(store, cache, CHUNK, 8, 16);
    }

    @AfterEach
    void tearDown() {
        CountDownLatch held = store.midway;
        if (held != null) {
            held.countDown();
        }
        readers.shutdownNow();
        reader.close();
        cache.close();
    }

    /** Makes every response from now on stop after its first {@code bytes} until the returned latch opens. */
    private CountDownLatch holdResponsesAfter(int bytes) {
        CountDownLatch rest = new CountDownLatch(1);
        store.heldAfter = bytes;
        store.midway = rest;
        return rest;
    }

    private ObjectInfo put(String name, byte[] bytes) throws IOException {
        Path file = folder.resolve("objects").resolve(name);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        ObjectInfo stat = new LocalStore().stat(Location.of(file));
        return new ObjectInfo(stat.location(), stat.size(), stat.lastModified(), stat.etag(), Crc32c.of(bytes));
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private byte[] read(OpenObject file, long offset, int length) throws IOException {
        return read(reader, file, offset, length);
    }

    private static byte[] read(ChunkReader reader, OpenObject file, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(length);
        int n = reader.read(file, buffer, offset);
        byte[] bytes = new byte[n];
        buffer.flip().get(bytes);
        return bytes;
    }

    private byte[] readAll(OpenObject file, int requestSize) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (long offset = 0; ; ) {
            byte[] part = read(file, offset, requestSize);
            if (part.length == 0) {
                return out.toByteArray();
            }
            out.write(part);
            offset += part.length;
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void sequential_reads_return_every_byte_and_fetch_ahead() throws Exception {
        byte[] bytes = random(20 * CHUNK + 77, 1);
        OpenObject file = reader.open(put("seq.bin", bytes), "/seq.bin");

        assertThat(read(file, 0, 16 * 1024)).isEqualTo(Arrays.copyOf(bytes, 16 * 1024));
        assertThat(read(file, 16 * 1024, 16 * 1024)).isEqualTo(Arrays.copyOfRange(bytes, 16 * 1024, 32 * 1024));
        // a reader that continues where it stopped gets the next chunks fetched before it asks, in one GET
        waitUntil(() -> store.readPositions.contains((long) CHUNK), "chunks after the first were fetched ahead");

        OpenObject again = reader.open(file.object, "/seq.bin");
        assertThat(readAll(again, 128 * 1024)).isEqualTo(bytes);
        assertThat(new HashSet<>(store.readPositions)).hasSameSizeAs(store.readPositions); // no chunk fetched twice
    }

    @Test
    void an_open_file_keeps_in_memory_only_the_chunks_ahead_of_its_reader() throws Exception {
        byte[] bytes = random(40 * CHUNK, 4);
        OpenObject sequential = reader.open(put("sequential.bin", bytes), "/sequential.bin");
        assertThat(readAll(sequential, 64 * 1024)).isEqualTo(bytes);
        // The last two chunks only: the 38 before them are in the cache, and the file may stay open for hours.
        assertThat(sequential.recentChunks()).hasSize(2);

        OpenObject random = reader.open(put("random.bin", bytes), "/random.bin");
        for (int chunk : new int[] {30, 5, 20, 12, 38, 1}) {
            int offset = chunk * CHUNK + 100;
            assertThat(read(random, offset, 4096)).isEqualTo(Arrays.copyOfRange(bytes, offset, offset + 4096));
            assertThat(random.recentChunks()).hasSizeLessThanOrEqualTo(1);
        }
    }

    @Test
    void beyond_the_files_that_may_hold_a_window_the_one_read_least_recently_lets_go_of_its_chunks() throws Exception {
        ChunkReader two = new ChunkReader(store, cache, CHUNK, 8, 16, 2);
        try {
            byte[][] bytes = new byte[4][];
            OpenObject[] files = new OpenObject[4];
            for (int i = 0; i < 4; i++) {
                bytes[i] = random(16 * CHUNK, 10 + i);
                files[i] = two.open(put("held-" + i + ".bin", bytes[i]), "/held-" + i + ".bin");
            }
            for (int i = 0; i < 3; i++) { // three files read partway and left open
                assertThat(read(two, files[i], 0, CHUNK)).isEqualTo(Arrays.copyOf(bytes[i], CHUNK));
                assertThat(read(two, files[i], CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(bytes[i], CHUNK, 2 * CHUNK));
                waitUntil(() -> two.freeReadAheadSlots() == 16, "read-ahead to finish");
            }
            assertThat(files[0].recentChunks()).as("read least recently: let go").isEmpty();
            assertThat(files[1].recentChunks()).isNotEmpty();
            assertThat(files[2].recentChunks()).isNotEmpty();

            two.closed(files[1]); // released: the next file to read ahead takes its place, not another's
            assertThat(read(two, files[3], 0, CHUNK)).isEqualTo(Arrays.copyOf(bytes[3], CHUNK));
            assertThat(read(two, files[3], CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(bytes[3], CHUNK, 2 * CHUNK));
            waitUntil(() -> two.freeReadAheadSlots() == 16, "read-ahead to finish");
            assertThat(files[2].recentChunks()).isNotEmpty();

            // The file that let go reads on, what it had fetched ahead from the cache, and reads ahead again.
            Set<Long> cached = new HashSet<>();
            for (long i = 0; i < 16; i++) {
                if (cache.contains(new ChunkKey(files[0].id, i))) {
                    cached.add(i * CHUNK);
                }
            }
            assertThat(cached).as("fetched ahead before it let go").contains(2L * CHUNK);
            int before = store.readPositions.size();
            java.io.ByteArrayOutputStream rest = new java.io.ByteArrayOutputStream();
            for (long offset = 2 * CHUNK; offset < 16 * CHUNK; offset += CHUNK) {
                rest.write(read(two, files[0], offset, CHUNK));
            }
            assertThat(rest.toByteArray()).isEqualTo(Arrays.copyOfRange(bytes[0], 2 * CHUNK, 16 * CHUNK));
            List<Long> fetched = store.readPositions.subList(before, store.readPositions.size());
            assertThat(fetched).as("the rest, in a few GETs").isNotEmpty().hasSizeLessThan(8)
                    .doesNotContainAnyElementsOf(cached);
        } finally {
            two.close();
        }
    }

    @Test
    void a_sequential_reader_gets_its_chunks_in_few_large_requests_also_when_it_starts_over() throws Exception {
        int chunks = 64;
        byte[] bytes = random(chunks * CHUNK, 3);
        OpenObject file = reader.open(put("long.bin", bytes), "/long.bin");
        // Requests smaller than a chunk, as the kernel sends them; read-ahead tops up half a window (4 chunks) at a
        // time, so the object takes about chunks / 4 GETs instead of one per chunk.
        assertThat(readAll(file, CHUNK / 4)).isEqualTo(bytes);
        assertThat(store.readPositions).hasSizeLessThanOrEqualTo(chunks / 3);
        assertThat(new HashSet<>(store.readPositions)).hasSameSizeAs(store.readPositions);

        // Another epoch on the same handle, every chunk to fetch again (as after eviction): read ahead again.
        waitUntil(() -> reader.freeReadAheadSlots() == 16, "read-ahead to finish");
        cache.clear();
        store.readPositions.clear();
        assertThat(readAll(file, CHUNK / 4)).isEqualTo(bytes);
        assertThat(store.readPositions).as("GETs of the second pass").hasSizeLessThanOrEqualTo(chunks / 3);
    }

    @Test
    void the_first_bytes_of_a_larger_object_are_served_before_their_chunk_is_whole() throws Exception {
        byte[] bytes = random(4 * CHUNK, 5);
        OpenObject file = reader.open(put("stream.bin", bytes), "/stream.bin");
        CountDownLatch rest = holdResponsesAfter(4096);
        Future<byte[]> first = readers.submit(() -> read(file, 100, 200));
        // only the first 4 KiB of every response are in, and those bytes are enough for this read
        assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(Arrays.copyOfRange(bytes, 100, 300));
        assertThat(cache.status().chunkCount()).isZero(); // no chunk has arrived whole
        rest.countDown();
        store.midway = null;
        assertThat(readAll(reader.open(file.object, "/stream.bin"), CHUNK / 3)).isEqualTo(bytes);
    }

    @Test
    void a_one_chunk_object_is_served_only_once_whole_and_checked() throws Exception {
        byte[] bytes = random(CHUNK / 2, 6);
        OpenObject file = reader.open(put("one.bin", bytes), "/one.bin");
        CountDownLatch rest = holdResponsesAfter(4096);
        Future<byte[]> first = readers.submit(() -> read(file, 0, 100));
        Thread.sleep(300); // ample time to be served, had it been served before the object was checked
        assertThat(first).isNotDone();
        rest.countDown();
        assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(Arrays.copyOf(bytes, 100));
    }

    @Test
    void random_reads_fetch_only_the_chunks_they_touch() throws IOException {
        byte[] bytes = random(64 * CHUNK, 2);
        OpenObject file = reader.open(put("random.bin", bytes), "/random.bin");
        Random random = new Random(3);
        Set<Long> touched = new HashSet<>();
        long previousEnd = 0;
        for (int i = 0; i < 40; i++) {
            int offset;
            do { // random access: every read lands away from where the last one ended
                offset = random.nextInt(bytes.length - 4096);
                offset -= offset % 4096;
            } while (Math.abs(offset - previousEnd) <= 2L * CHUNK);
            previousEnd = offset + 4096;
            assertThat(read(file, offset, 4096)).isEqualTo(Arrays.copyOfRange(bytes, offset, offset + 4096));
            touched.add((long) offset / CHUNK * CHUNK);
        }
        assertThat(new HashSet<>(store.readPositions)).isEqualTo(touched);
    }

    @Test
    void concurrent_readers_of_one_chunk_share_a_single_fetch() throws Exception {
        byte[] bytes = random(CHUNK, 4);
        ObjectInfo object = put("shared.bin", bytes);
        store.gate = new CountDownLatch(1);
        List<Thread> readers = new ArrayList<>();
        List<byte[]> results = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 8; i++) {
            OpenObject file = reader.open(object, "/shared.bin");
            readers.add(Thread.ofPlatform().start(() -> {
                try {
                    results.add(read(file, 0, CHUNK));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        waitUntil(() -> readers.stream().allMatch(t -> t.getState() == Thread.State.WAITING), "all readers wait");
        store.gate.countDown();
        for (Thread t : readers) {
            t.join();
        }
        assertThat(results).hasSize(8).allSatisfy(r -> assertThat(r).isEqualTo(bytes));
        assertThat(store.readPositions).containsExactly(0L);
    }

    @Test
    void a_changed_object_fails_the_read_instead_of_mixing_versions() throws Exception {
        ObjectInfo listed = put("changing.bin", random(4 * CHUNK, 5));
        OpenObject file = reader.open(listed, "/changing.bin");
        read(file, 0, 1024);
        Thread.sleep(5); // a new modification time, hence a new version tag
        put("changing.bin", random(4 * CHUNK, 6));

        assertThatThrownBy(() -> read(file, 3L * CHUNK, 1024))
                .isInstanceOf(ObjectChangedException.class)
                .hasMessageContaining("changing.bin").hasMessageContaining("changed since it was listed");
    }

    @Test
    void a_small_object_that_fails_its_checksum_is_never_served() throws IOException {
        ObjectInfo good = put("small.bin", random(1000, 7));
        ObjectInfo wrongCrc = new ObjectInfo(good.location(), good.size(), good.lastModified(), good.etag(),
                "00000000");
        OpenObject file = reader.open(wrongCrc, "/small.bin");

        assertThatThrownBy(() -> read(file, 0, 1000)).isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("small.bin");
        assertThat(cache.status().chunkCount()).isZero();
    }

    @Test
    void a_large_object_is_checked_whole_when_its_last_chunk_arrives_and_then_fails_every_read() throws Exception {
        ObjectInfo good = put("large.bin", random(5 * CHUNK + 3, 8));
        ObjectInfo wrongCrc = new ObjectInfo(good.location(), good.size(), good.lastModified(), good.etag(),
                "00000000");
        OpenObject file = reader.open(wrongCrc, "/large.bin");

        assertThatThrownBy(() -> readAll(file, CHUNK)).isInstanceOf(ChecksumMismatchException.class);
        assertThatThrownBy(() -> read(file, 0, 10)).isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("large.bin");
        waitUntil(() -> {
            try {
                return cache.status().chunkCount() == 0;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "the object's chunks are dropped from the cache");
    }

    @Test
    void a_reader_that_reads_the_end_first_learns_of_corruption_on_the_read_that_completes_the_object()
            throws Exception {
        reader.close();
        reader = new ChunkReader(store, cache, CHUNK, 8, 0); // no read-ahead: only the reads below fetch
        byte[] bytes = random(3 * CHUNK, 15);
        ObjectInfo good = put("footer.bin", bytes);
        OpenObject file = reader.open(new ObjectInfo(good.location(), good.size(), good.lastModified(), good.etag(),
                "00000000"), "/footer.bin");
        // Parquet, zip and HDF5 readers read a file's end first, then the rest.
        assertThat(read(file, 2L * CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(bytes, 2 * CHUNK, 3 * CHUNK));
        assertThat(read(file, CHUNK, CHUNK)).isEqualTo(Arrays.copyOfRange(bytes, CHUNK, 2 * CHUNK));

        CountDownLatch rest = holdResponsesAfter(4096);
        Future<byte[]> last = readers.submit(() -> read(file, 0, 100)); // the last chunk this reader had not read
        Thread.sleep(300); // ample time to be served, had it been served before the object was checked
        rest.countDown();

        assertThatThrownBy(() -> last.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(ChecksumMismatchException.class);
    }

    /** Overwrites an object's bytes in the store keeping its size and time, so its version tag stays the same. */
    private void rot(ObjectInfo object, byte[] bytes) throws IOException {
        Path file = object.location().toPath();
        FileTime time = Files.getLastModifiedTime(file);
        Files.write(file, bytes);
        Files.setLastModifiedTime(file, time);
        assertThat(new LocalStore().stat(object.location()).etag()).isEqualTo(object.etag());
    }

    private static ObjectInfo withoutCrc(ObjectInfo object) {
        return new ObjectInfo(object.location(), object.size(), object.lastModified(), object.etag(), null);
    }

    @Test
    void chunks_from_the_cache_count_in_the_whole_object_check_so_bytes_gone_bad_in_the_store_are_caught()
            throws Exception {
        byte[] good = random(4 * CHUNK, 12);
        ObjectInfo object = put("rot.bin", good);
        // An earlier mount (or one that had no checksum to check against) cached the first half of the object.
        try (ChunkReader earlier = new ChunkReader(store, cache, CHUNK, 8, 0)) { // no read-ahead: only chunks 0-1
            assertThat(read(earlier, earlier.open(withoutCrc(object), "/rot.bin"), 0, 2 * CHUNK))
                    .isEqualTo(Arrays.copyOf(good, 2 * CHUNK));
        }
        String id = reader.open(object, "/rot.bin").id;
        assertThat(cache.crc32c(new ChunkKey(id, 1))).isNotNegative();
        assertThat(cache.crc32c(new ChunkKey(id, 2))).isNegative();
        byte[] rotten = good.clone();
        rotten[3 * CHUNK + 7] ^= 1;
        rot(object, rotten);

        // A dataset mount knows the object's CRC32C: its chunks 0-1 come from the cache, 2-3 from the bad copy.
        OpenObject file = reader.open(object, "/rot.bin");

        assertThatThrownBy(() -> readAll(file, CHUNK / 2)).isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("rot.bin");
    }

    @Test
    void a_one_chunk_object_cached_without_a_checksum_is_checked_when_a_reader_has_one() throws Exception {
        byte[] good = random(CHUNK / 2, 13);
        ObjectInfo object = put("small.bin", good);
        byte[] rotten = good.clone();
        rotten[5] ^= 1;
        rot(object, rotten);
        // A prefix mount of a store that keeps no CRC32C caches the bad bytes: it has nothing to check them against.
        assertThat(readAll(reader.open(withoutCrc(object), "/small.bin"), CHUNK)).isEqualTo(rotten);

        OpenObject file = reader.open(object, "/small.bin"); // a dataset version's manifest has the CRC32C

        assertThatThrownBy(() -> read(file, 0, 100)).isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("small.bin");
    }

    @Test
    void a_corrupt_cached_chunk_is_dropped_and_fetched_again() throws Exception {
        byte[] bytes = random(3 * CHUNK, 9);
        ObjectInfo object = put("cached.bin", bytes);
        assertThat(readAll(reader.open(object, "/cached.bin"), CHUNK)).isEqualTo(bytes);
        waitUntil(() -> {
            try {
                return cache.status().chunkCount() == 3;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "three chunks are cached");
        reader.close();
        cache.close();
        List<Path> chunks;
        try (Stream<Path> files = Files.walk(folder.resolve("cache/chunks"))) {
            chunks = files.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}\\.[0-9]+"))
                    .sorted().toList();
        }
        assertThat(chunks).hasSize(3);
        byte[] chunk = Files.readAllBytes(chunks.get(1));
        chunk[100] ^= 0x40;
        Files.write(chunks.get(1), chunk);
        store.readPositions.clear();

        // as after a restart: a new cache on the same folder, a new reader
        cache = ChunkCache.open(folder.resolve("cache"), 1L << 30);
        reader = new ChunkReader(store, cache, CHUNK, 0, 0);
        assertThat(readAll(reader.open(object, "/cached.bin"), CHUNK)).isEqualTo(bytes);
        assertThat(store.readPositions).hasSize(1); // only the bad chunk was fetched again
    }

    @Test
    void an_object_larger_than_the_cache_streams_correctly_with_eviction() throws IOException {
        cache.close();
        cache = ChunkCache.open(folder.resolve("small-cache"), 4L * CHUNK);
        reader.close();
        reader = new ChunkReader(store, cache, CHUNK, 4, 4);
        byte[] bytes = random(40 * CHUNK, 10);
        OpenObject file = reader.open(put("huge.bin", bytes), "/huge.bin");

        assertThat(readAll(file, 128 * 1024)).isEqualTo(bytes);
        assertThat(cache.status().usedBytes()).isLessThanOrEqualTo(4L * CHUNK);
        assertThat(readAll(reader.open(file.object, "/huge.bin"), 100_000)).isEqualTo(bytes);
    }

    @Test
    void a_failing_store_is_retried_and_a_read_fails_only_when_it_keeps_failing() throws IOException {
        reader.close();
        reader = new ChunkReader(store, cache, CHUNK, 0, 0); // no read-ahead: only the reads below fetch
        byte[] bytes = random(2 * CHUNK, 11);
        ObjectInfo object = put("flaky.bin", bytes);
        store.failNextReads.set(2);
        assertThat(read(reader.open(object, "/flaky.bin"), 0, 100)).isEqualTo(Arrays.copyOf(bytes, 100));

        store.failNextReads.set(100);
        OpenObject file = reader.open(object, "/flaky.bin");
        assertThatThrownBy(() -> read(file, CHUNK, 100)).hasMessageContaining("injected failure");
        store.failNextReads.set(0);
        assertThat(read(file, CHUNK, 100)).isEqualTo(Arrays.copyOfRange(bytes, CHUNK, CHUNK + 100));
    }

    @Test
    void a_read_ahead_fetch_that_dies_of_an_error_does_not_leave_the_readers_of_its_chunks_waiting_for_ever()
            throws Exception {
        byte[] bytes = random(8 * CHUNK, 14);
        OpenObject file = reader.open(put("error.bin", bytes), "/error.bin");
        store.errorFrom = CHUNK; // the GET of the chunks read ahead of the first read, not that of the first chunk
        store.errorOnNextRead.set(new OutOfMemoryError("injected: Java heap space"));

        assertThat(read(file, 0, 100)).isEqualTo(Arrays.copyOf(bytes, 100));
        waitUntil(() -> store.errorOnNextRead.get() == null && reader.freeReadAheadSlots() == 16,
                "the read-ahead GET has ended");

        Future<byte[]> again = readers.submit(() -> readAll(reader.open(file.object, "/error.bin"), CHUNK));
        assertThat(again.get(30, TimeUnit.SECONDS)).isEqualTo(bytes);
    }

    @Test
    void an_object_deleted_after_it_was_listed_reads_as_not_found() throws IOException {
        ObjectInfo object = put("gone.bin", random(1000, 12));
        Files.delete(object.location().toPath());
        OpenObject file = reader.open(object, "/gone.bin");
        assertThatThrownBy(() -> read(file, 0, 100)).isInstanceOf(ferry.store.ObjectNotFoundException.class);
    }
}

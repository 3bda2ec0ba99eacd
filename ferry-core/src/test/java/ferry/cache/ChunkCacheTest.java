package ferry.cache;

import static ferry.cache.CacheFixtures.allocatedChunkBytes;
import static ferry.cache.CacheFixtures.chunkBytes;
import static ferry.cache.CacheFixtures.chunkFile;
import static ferry.cache.CacheFixtures.content;
import static ferry.cache.CacheFixtures.crc;
import static ferry.cache.CacheFixtures.files;
import static ferry.cache.CacheFixtures.put;
import static ferry.cache.CacheFixtures.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.FutureTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ChunkCacheTest {
    /** Chunks of this many data bytes take 1000 bytes on disk with their trailer, to keep budgets readable. */
    private static final int DATA = 1000 - ChunkFormat.TRAILER_BYTES;
    private static final String OBJECT = "s3://bucket/train/a.bin#v1#1000";

    @TempDir
    Path folder;

    private final List<ChunkCache> opened = new ArrayList<>();
    private final ManualTicker ticker = new ManualTicker();

    @AfterEach
    void closeCaches() {
        opened.forEach(ChunkCache::close);
    }

    private Path dir() {
        return folder.resolve("cache");
    }

    private ChunkCache open(long budget) throws IOException {
        return open(budget, ticker);
    }

    private ChunkCache open(long budget, ManualTicker clock) throws IOException {
        ChunkCache cache = ChunkCache.open(dir(), budget, 8, clock, Clock.systemUTC(), 1);
        opened.add(cache);
        return cache;
    }

    private static ChunkKey key(long index) {
        return new ChunkKey(OBJECT, index);
    }

    /** Puts chunks with the ticker moved on by an hour before each, so their recency is clearly ordered. */
    private void putAll(ChunkCache cache, int from, int to) {
        for (int i = from; i < to; i++) {
            ticker.advance(Duration.ofHours(1));
            assertThat(put(cache, key(i), content(key(i), DATA))).as("put chunk %d", i).isTrue();
        }
    }

    private static void setModified(Path file, Instant time) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(time));
    }

    @Test
    void read_copies_the_asked_range_into_heap_or_direct_buffers_and_stops_at_the_chunk_end() throws Exception {
        ChunkCache cache = open(1 << 20);
        byte[] bytes = content(key(0), DATA);
        byte[] padded = new byte[DATA + 10];
        System.arraycopy(bytes, 0, padded, 5, DATA);
        ByteBuffer given = ByteBuffer.wrap(padded, 5, DATA);

        assertThat(cache.put(key(0), given, crc(bytes))).isTrue();
        assertThat(given.position()).as("the caller's position is not consumed").isEqualTo(5);

        ByteBuffer heap = ByteBuffer.allocate(200);
        assertThat(cache.read(key(0), 100, heap)).isEqualTo(200);
        assertThat(heap.array()).isEqualTo(Arrays.copyOfRange(bytes, 100, 300));

        ByteBuffer direct = ByteBuffer.allocateDirect(300);
        direct.position(7);
        assertThat(cache.read(key(0), DATA - 50, direct)).as("only up to the chunk's end").isEqualTo(50);
        assertThat(direct.position()).isEqualTo(57);
        assertThat(direct.limit()).isEqualTo(300);
        byte[] tail = new byte[50];
        direct.get(7, tail);
        assertThat(tail).isEqualTo(Arrays.copyOfRange(bytes, DATA - 50, DATA));

        assertThat(cache.read(key(0), DATA, ByteBuffer.allocate(10))).isZero();
        ByteBuffer untouched = ByteBuffer.allocate(10);
        assertThat(cache.read(key(1), 0, untouched)).as("a miss").isEqualTo(-1);
        assertThat(untouched.position()).isZero();
        assertThat(cache.contains(key(0))).isTrue();
        assertThat(cache.contains(key(1))).isFalse();
        assertThatThrownBy(() -> cache.read(key(0), -1, heap)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative offset -1");
    }

    @Test
    void a_chunk_file_is_its_bytes_its_objects_description_and_a_trailer_at_the_documented_path() throws Exception {
        ChunkCache cache = open(1 << 20);
        cache.describe(OBJECT, "s3://bucket/train/a.bin", 5000);
        byte[] bytes = content(key(3), DATA);
        put(cache, key(3), bytes);
        put(cache, key(4), content(key(4), DATA));

        Path file = chunkFile(dir(), key(3));
        byte[] stored = Files.readAllBytes(file);
        String description = new String(stored, DATA, stored.length - DATA - 24, StandardCharsets.UTF_8);
        assertThat(description).isEqualTo("{\"objectId\":\"" + OBJECT + "\",\"location\":\"s3://bucket/train/a.bin\","
                + "\"size\":5000}");
        assertThat(Arrays.copyOf(stored, DATA)).isEqualTo(bytes);
        ByteBuffer trailer = ByteBuffer.wrap(stored, stored.length - 24, 24);
        assertThat(trailer.getInt()).isEqualTo(DATA);
        assertThat(trailer.getInt()).isEqualTo(crc(bytes));
        assertThat(trailer.getInt()).isEqualTo(description.length());
        assertThat(trailer.getInt()).isEqualTo(crc(description.getBytes(StandardCharsets.UTF_8)));
        assertThat(trailer.getLong()).isEqualTo(ChunkFormat.MAGIC);
        assertThat(files(dir())).as("one file per chunk, and no other").containsExactlyInAnyOrder(file,
                chunkFile(dir(), key(4)));
        assertThat(Files.readAllBytes(chunkFile(dir(), key(4)))).as("every chunk carries the description")
                .contains(description.getBytes(StandardCharsets.UTF_8));

        put(cache, new ChunkKey("undescribed", 0), bytes);
        assertThat(chunkFile(dir(), new ChunkKey("undescribed", 0))).hasSize(DATA + 24);
    }

    @Test
    void a_damaged_or_overlong_description_leaves_its_chunk_readable_and_its_bytes_undescribed() throws Exception {
        ChunkCache cache = open(1 << 20);
        cache.describe(OBJECT, "s3://bucket/train/a.bin", 5000);
        put(cache, key(0), content(key(0), DATA));
        Path damaged = chunkFile(dir(), key(0));
        byte[] stored = Files.readAllBytes(damaged);
        stored[DATA + 5] ^= 0x20; // a byte of the description, not of the data
        Files.write(damaged, stored);
        ChunkKey longKey = new ChunkKey("long#v1", 0);
        cache.describe("long#v1", "s3://bucket/" + "x".repeat(ChunkFormat.MAX_DESCRIPTION_BYTES), 1);
        put(cache, longKey, content(longKey, DATA));
        cache.close();

        ChunkCache reopened = open(1 << 20);
        assertThat(read(reopened, key(0), DATA)).isEqualTo(content(key(0), DATA));
        assertThat(chunkFile(dir(), longKey)).as("stored without its description").hasSize(DATA + 24);
        CacheStatus status = reopened.status();
        assertThat(status.bytesByLocation()).isEmpty();
        assertThat(status.undescribedBytes()).isEqualTo(stored.length + DATA + 24);
        assertThat(status.thisProcess().corruptDropped()).isZero();
    }

    @Test
    void a_scan_drops_the_object_folders_of_the_layout_before_and_keeps_what_is_not_ours() throws Exception {
        ChunkCache first = open(1 << 20);
        putAll(first, 0, 2);
        first.close();
        Path fan = chunkFile(dir(), key(0)).getParent();
        Path oldFolder = fan.resolve(CacheFixtures.hashOf("s3://bucket/old#v1"));
        Files.createDirectories(oldFolder);
        Files.write(oldFolder.resolve("0"), new byte[5000]);
        Files.writeString(oldFolder.resolve("object"), "{}");
        Path notOurs = fan.resolve("notes");
        Files.createDirectories(notOurs);

        ChunkCache cache = open(1_500); // the ledger counts 2 000 bytes: opening scans
        assertThat(oldFolder).doesNotExist();
        assertThat(notOurs).isDirectory();
        assertThat(cache.status().usedBytes()).isEqualTo(1_000);
    }

    @Test
    void chunks_are_kept_across_close_and_reopen_and_served_without_a_miss() throws Exception {
        ChunkCache first = open(1 << 20);
        putAll(first, 0, 3);
        first.close();

        ChunkCache second = open(1 << 20);
        for (int i = 0; i < 3; i++) {
            assertThat(second.contains(key(i))).isTrue();
            assertThat(read(second, key(i), DATA)).isEqualTo(content(key(i), DATA));
        }
        CacheStatus status = second.status();
        assertThat(status.thisProcess().hits()).isEqualTo(3);
        assertThat(status.thisProcess().misses()).isZero();
        assertThat(status.chunkCount()).isEqualTo(3);
    }

    @Test
    void a_chunk_kept_counts_as_used_and_outlasts_chunks_put_after_it() throws Exception {
        ChunkCache cache = open(10_000);
        putAll(cache, 0, 10);
        ticker.advance(Duration.ofHours(1));
        assertThat(cache.keep(key(0))).isTrue();
        assertThat(cache.keep(key(99))).as("not cached").isFalse();
        for (int i = 0; i < 10; i++) {
            setModified(chunkFile(dir(), key(i)), Instant.parse("2020-01-01T00:00:00Z"));
        }

        putAll(cache, 10, 11);

        assertThat(cache.contains(key(0))).as("kept recently").isTrue();
        assertThat(cache.contains(key(1))).isFalse();
        assertThat(cache.contains(key(2))).isFalse();
        assertThat(cache.status().thisProcess().hits()).as("keeping is not reading").isZero();
    }

    @Test
    void a_put_over_the_budget_evicts_the_least_recently_used_chunks_down_to_ninety_percent() throws Exception {
        ChunkCache cache = open(10_000);
        putAll(cache, 0, 10);
        assertThat(chunkBytes(dir())).isEqualTo(10_000);
        ticker.advance(Duration.ofHours(1));
        assertThat(read(cache, key(0), DATA)).isNotNull();
        for (int i = 0; i < 10; i++) {
            // Equal file times: only this process's own record of use can tell the chunks apart.
            setModified(chunkFile(dir(), key(i)), Instant.parse("2020-01-01T00:00:00Z"));
        }

        putAll(cache, 10, 11);

        // 11 000 bytes wanted: down to 9 000 including the new chunk, so the two least recently used go.
        assertThat(cache.contains(key(1))).isFalse();
        assertThat(cache.contains(key(2))).isFalse();
        assertThat(cache.contains(key(0))).as("read recently").isTrue();
        for (int i = 3; i <= 10; i++) {
            assertThat(cache.contains(key(i))).as("chunk %d", i).isTrue();
        }
        assertThat(chunkBytes(dir())).isEqualTo(9_000);
        assertThat(cache.status().thisProcess().evictions()).isEqualTo(2);

        putAll(cache, 11, 12);
        assertThat(cache.status().thisProcess().evictions()).as("room was left; no eviction").isEqualTo(2);
    }

    @Test
    void reopening_with_a_smaller_budget_evicts_the_chunks_least_recently_modified() throws Exception {
        ChunkCache first = open(1 << 20);
        putAll(first, 0, 10);
        first.close();
        Instant base = Instant.parse("2020-01-01T00:00:00Z");
        for (int i = 0; i < 10; i++) {
            setModified(chunkFile(dir(), key(i)), base.plus(Duration.ofMinutes(i)));
        }

        ChunkCache smaller = open(5_000);

        assertThat(chunkBytes(dir())).isEqualTo(4_000);
        for (int i = 0; i < 10; i++) {
            assertThat(Files.exists(chunkFile(dir(), key(i)))).as("chunk %d", i).isEqualTo(i >= 6);
        }
        assertThat(smaller.status().thisProcess().evictions()).isEqualTo(6);
    }

    @Test
    void the_budget_is_recorded_so_a_command_given_none_opens_the_cache_without_trimming_it() throws Exception {
        assertThat(ChunkCache.recordedBudget(dir(), 5_000)).as("nothing recorded yet").isEqualTo(5_000);
        ChunkCache mount = open(1 << 20);
        putAll(mount, 0, 10);
        mount.close();

        long budget = ChunkCache.recordedBudget(dir(), 5_000);
        ChunkCache status = open(budget);

        assertThat(budget).isEqualTo(1 << 20);
        assertThat(chunkBytes(dir())).isEqualTo(10 * 1_000);
        assertThat(status.status().thisProcess().evictions()).isZero();
    }

    @Test
    void first_use_in_a_process_sets_the_modification_time_then_at_most_once_a_minute() throws Exception {
        ChunkCache writer = open(1 << 20);
        putAll(writer, 0, 1);
        writer.close();
        Path file = chunkFile(dir(), key(0));
        FileTime old = FileTime.from(Instant.parse("2001-01-01T00:00:00Z"));
        Files.setLastModifiedTime(file, old);

        ChunkCache reader = open(1 << 20);
        read(reader, key(0), DATA);
        assertThat(Files.getLastModifiedTime(file)).isGreaterThan(old);

        Files.setLastModifiedTime(file, old);
        ticker.advance(Duration.ofSeconds(30));
        read(reader, key(0), DATA);
        assertThat(Files.getLastModifiedTime(file)).as("within the minute").isEqualTo(old);

        ticker.advance(Duration.ofSeconds(31));
        read(reader, key(0), DATA);
        assertThat(Files.getLastModifiedTime(file)).as("a minute later").isGreaterThan(old);
    }

    @Test
    void eviction_counts_use_that_another_instance_recorded() throws Exception {
        ChunkCache writer = open(10_000);
        putAll(writer, 0, 10);
        writer.close();
        Instant base = Instant.parse("2020-01-01T00:00:00Z");
        for (int i = 0; i < 10; i++) {
            setModified(chunkFile(dir(), key(i)), base.plus(Duration.ofMinutes(i)));
        }
        ChunkCache reader = open(10_000, new ManualTicker());
        ChunkCache putter = open(10_000, new ManualTicker());

        assertThat(read(reader, key(0), DATA)).isEqualTo(content(key(0), DATA));
        assertThat(put(putter, key(10), content(key(10), DATA))).isTrue();

        assertThat(Files.exists(chunkFile(dir(), key(0)))).as("used by the other instance").isTrue();
        assertThat(Files.exists(chunkFile(dir(), key(1)))).isFalse();
        assertThat(Files.exists(chunkFile(dir(), key(2)))).isFalse();
        assertThat(chunkBytes(dir())).isEqualTo(9_000);
    }

    @Test
    void two_instances_read_each_others_chunks_and_store_the_same_chunk_safely() throws Exception {
        ChunkCache a = open(1 << 20);
        ChunkCache b = open(1 << 20, new ManualTicker());

        put(a, key(1), content(key(1), DATA));
        assertThat(read(b, key(1), DATA)).isEqualTo(content(key(1), DATA));
        put(b, key(2), content(key(2), DATA));
        assertThat(read(a, key(2), DATA)).isEqualTo(content(key(2), DATA));

        assertThat(put(a, key(3), content(key(3), DATA))).isTrue();
        assertThat(read(b, key(3), DATA)).isEqualTo(content(key(3), DATA));
        assertThat(put(b, key(3), content(key(3), DATA))).isTrue();
        assertThat(read(a, key(3), DATA)).isEqualTo(content(key(3), DATA));
        assertThat(read(b, key(3), DATA)).isEqualTo(content(key(3), DATA));

        assertThat(files(dir())).hasSize(3);
        assertThat(a.status().usedBytes()).isEqualTo(3_000);
    }

    @Test
    void two_instances_putting_in_turn_keep_the_folder_within_the_budget() throws Exception {
        ChunkCache a = open(10_000);
        ChunkCache b = open(10_000, new ManualTicker());
        for (int i = 0; i < 40; i++) {
            ticker.advance(Duration.ofHours(1));
            ChunkCache cache = i % 2 == 0 ? a : b;
            assertThat(put(cache, key(i), content(key(i), DATA))).isTrue();
            assertThat(chunkBytes(dir())).as("after put %d", i).isLessThanOrEqualTo(10_000);
        }
        assertThat(chunkBytes(dir())).isGreaterThanOrEqualTo(8_000);
        for (int i = 0; i < 40; i++) {
            byte[] got = read(i % 3 == 0 ? a : b, key(i), DATA);
            assertThat(got == null || Arrays.equals(got, content(key(i), DATA))).as("chunk %d", i).isTrue();
        }
        assertThat(read(a, key(39), DATA)).as("the newest chunk is kept").isEqualTo(content(key(39), DATA));
    }

    @Test
    void a_chunk_deleted_by_another_process_while_open_still_reads() throws Exception {
        ChunkCache cache = open(1 << 20);
        put(cache, key(0), content(key(0), DATA));
        assertThat(read(cache, key(0), DATA)).isNotNull();

        Files.delete(chunkFile(dir(), key(0)));

        assertThat(read(cache, key(0), DATA)).isEqualTo(content(key(0), DATA));
    }

    /** Ways a chunk file can be damaged at rest. */
    enum Damage {
        FLIPPED_DATA_BYTE, FLIPPED_TRAILER_BYTE, DATA_CUT_TRAILER_KEPT, TAIL_CUT_OFF, NO_TRAILER, EMPTY;

        byte[] apply(byte[] file) {
            return switch (this) {
                case FLIPPED_DATA_BYTE -> flip(file, 123);
                case FLIPPED_TRAILER_BYTE -> flip(file, file.length - 13);
                case DATA_CUT_TRAILER_KEPT -> {
                    byte[] cut = new byte[file.length - 10];
                    System.arraycopy(file, 0, cut, 0, 100);
                    System.arraycopy(file, 110, cut, 100, file.length - 110);
                    yield cut;
                }
                case TAIL_CUT_OFF -> Arrays.copyOf(file, file.length - 5);
                case NO_TRAILER -> Arrays.copyOf(file, file.length - 16);
                case EMPTY -> new byte[0];
            };
        }

        private static byte[] flip(byte[] file, int at) {
            byte[] copy = file.clone();
            copy[at] ^= 0x40;
            return copy;
        }
    }

    @ParameterizedTest
    @EnumSource(Damage.class)
    void a_damaged_chunk_is_a_miss_and_is_deleted_counted_and_logged_by_name(Damage damage) throws Exception {
        ChunkCache writer = open(1 << 20);
        put(writer, key(0), content(key(0), DATA));
        put(writer, key(1), content(key(1), DATA));
        writer.close();
        Path file = chunkFile(dir(), key(0));
        Files.write(file, damage.apply(Files.readAllBytes(file)));

        try (CacheFixtures.Logs logs = new CacheFixtures.Logs()) {
            ChunkCache reader = open(1 << 20);
            assertThat(reader.read(key(0), 0, ByteBuffer.allocate(10))).isEqualTo(-1);

            assertThat(file).doesNotExist();
            assertThat(reader.status().thisProcess().corruptDropped()).isEqualTo(1);
            assertThat(reader.status().thisProcess().misses()).isEqualTo(1);
            assertThat(logs.warnings()).singleElement().asString()
                    .contains("corrupt cache chunk " + file).contains("fetched again");
            assertThat(read(reader, key(1), DATA)).as("the other chunk").isEqualTo(content(key(1), DATA));
            assertThat(put(reader, key(0), content(key(0), DATA))).isTrue();
            assertThat(read(reader, key(0), DATA)).isEqualTo(content(key(0), DATA));
            assertThat(reader.status().usedBytes()).isEqualTo(2_000);
        }
    }

    @Test
    void status_reports_usage_counters_and_bytes_grouped_by_location_prefix() throws Exception {
        ChunkCache cache = open(1 << 20);
        cache.describe("a#v1", "s3://bucket/train/a.jpg", 2_000);
        cache.describe("b#v1", "s3://bucket/train/deep/b.jpg", 1_000);
        cache.describe("c#v1", "s3://bucket/val/c.jpg", 1_000);
        put(cache, new ChunkKey("a#v1", 0), content(key(0), DATA));
        put(cache, new ChunkKey("a#v1", 1), content(key(1), DATA));
        put(cache, new ChunkKey("b#v1", 0), content(key(2), DATA));
        put(cache, new ChunkKey("c#v1", 0), content(key(3), DATA));
        put(cache, new ChunkKey("undescribed", 0), content(key(4), DATA));
        read(cache, new ChunkKey("a#v1", 0), DATA);
        read(cache, new ChunkKey("a#v1", 9), DATA);

        CacheStatus status = cache.status();

        // A described chunk is its data, its description and the trailer; an undescribed one 1 000 bytes.
        long a = Files.size(chunkFile(dir(), new ChunkKey("a#v1", 0)))
                + Files.size(chunkFile(dir(), new ChunkKey("a#v1", 1)));
        long b = Files.size(chunkFile(dir(), new ChunkKey("b#v1", 0)));
        long c = Files.size(chunkFile(dir(), new ChunkKey("c#v1", 0)));
        assertThat(a).isGreaterThan(2_000);
        assertThat(status.dir()).isEqualTo(dir());
        assertThat(status.budgetBytes()).isEqualTo(1 << 20);
        assertThat(status.usedBytes()).isEqualTo(a + b + c + 1_000);
        assertThat(status.chunkCount()).isEqualTo(5);
        assertThat(status.thisProcess().hits()).isEqualTo(1);
        assertThat(status.thisProcess().misses()).isEqualTo(1);
        assertThat(status.thisProcess().hitRatio()).isEqualTo(0.5);
        assertThat(status.bytesByLocation()).containsExactly(
                java.util.Map.entry("s3://bucket/train/a.jpg", a),
                java.util.Map.entry("s3://bucket/train/deep/b.jpg", b),
                java.util.Map.entry("s3://bucket/val/c.jpg", c));
        assertThat(status.undescribedBytes()).isEqualTo(1_000);
        assertThat(status.bytesByPrefix(0)).containsExactly(java.util.Map.entry("s3://bucket/", a + b + c));
        assertThat(status.bytesByPrefix(1)).containsExactly(
                java.util.Map.entry("s3://bucket/train/", a + b), java.util.Map.entry("s3://bucket/val/", c));
        assertThat(status.bytesByPrefix(2)).containsExactly(
                java.util.Map.entry("s3://bucket/train/", a),
                java.util.Map.entry("s3://bucket/train/deep/", b),
                java.util.Map.entry("s3://bucket/val/", c));
        assertThat(status.bytesUnder("s3://bucket/train/")).isEqualTo(a + b);
    }

    @Test
    void flushed_counters_add_up_across_instances_and_show_in_a_later_status() throws Exception {
        ChunkCache a = open(1 << 20);
        ChunkCache b = open(1 << 20, new ManualTicker());
        put(a, key(0), content(key(0), DATA));
        for (int i = 0; i < 3; i++) {
            read(a, key(0), DATA);
        }
        read(a, key(7), DATA);
        read(a, key(8), DATA);
        read(b, key(0), DATA);
        read(b, key(9), DATA);

        a.flushStats();
        a.flushStats(); // A second flush adds nothing new.
        assertThat(b.status().allTime().hits()).as("a's flushed hits and b's own").isEqualTo(4);
        b.close();

        ChunkCache later = open(1 << 20);
        CacheStatus status = later.status();
        assertThat(status.thisProcess().hits()).isZero();
        assertThat(status.allTime().hits()).isEqualTo(4);
        assertThat(status.allTime().misses()).isEqualTo(3);
        assertThat(status.allTime().hitRatio()).isEqualTo(4 / 7.0);
    }

    @Test
    void clear_deletes_every_chunk_and_the_cache_fills_again() throws Exception {
        ChunkCache cache = open(1 << 20);
        cache.describe(OBJECT, "s3://bucket/train/a.bin", 3_000);
        putAll(cache, 0, 3);
        read(cache, key(0), DATA);

        cache.clear();

        assertThat(files(dir())).isEmpty();
        assertThat(cache.read(key(0), 0, ByteBuffer.allocate(10))).isEqualTo(-1);
        assertThat(cache.contains(key(1))).isFalse();
        assertThat(cache.status().usedBytes()).isZero();

        putAll(cache, 0, 1);
        assertThat(read(cache, key(0), DATA)).isEqualTo(content(key(0), DATA));
        assertThat(cache.status().bytesByLocation()).as("the description is written again")
                .containsEntry("s3://bucket/train/a.bin", Files.size(chunkFile(dir(), key(0))));
    }

    @Test
    void invalidate_drops_only_that_objects_chunks() throws Exception {
        ChunkCache cache = open(1 << 20);
        ChunkCache other = open(1 << 20, new ManualTicker());
        ChunkKey kept = new ChunkKey("s3://bucket/other#v1", 0);
        putAll(cache, 0, 3);
        put(cache, kept, content(kept, DATA));
        read(cache, key(0), DATA);
        read(other, key(1), DATA);

        cache.invalidate(OBJECT);

        for (int i = 0; i < 3; i++) {
            assertThat(cache.read(key(i), 0, ByteBuffer.allocate(10))).isEqualTo(-1);
        }
        assertThat(files(dir())).containsExactly(chunkFile(dir(), kept));
        assertThat(read(cache, kept, DATA)).isEqualTo(content(kept, DATA));
        assertThat(cache.status().usedBytes()).isEqualTo(1_000);
    }

    @Test
    void a_budget_that_is_not_positive_is_refused_naming_the_folder() {
        assertThatThrownBy(() -> ChunkCache.open(dir(), 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir().toString()).hasMessageContaining("must be positive, got 0 bytes");
        assertThatThrownBy(() -> ChunkCache.open(dir(), -5)).isInstanceOf(IllegalArgumentException.class);
        assertThat(dir()).doesNotExist();
    }

    @Test
    void a_folder_that_is_a_file_or_cannot_be_made_is_refused_naming_it() throws Exception {
        Files.writeString(dir(), "not a folder");
        assertThatThrownBy(() -> ChunkCache.open(dir(), 1 << 20)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir() + " is a file, not a folder").hasMessageContaining("choose another");

        Path under = dir().resolve("cache");
        assertThatThrownBy(() -> ChunkCache.open(under, 1 << 20)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(under.toString()).hasMessageContaining("is a file, not a folder");

        Path nowhere = Path.of("/proc/ferry-no-such-folder/cache"); // no folder can be made there
        assertThatThrownBy(() -> ChunkCache.open(nowhere, 1 << 20)).isInstanceOf(IOException.class)
                .hasMessageContaining("cannot create cache folder " + nowhere)
                .hasMessageContaining("no such file or folder").hasMessageContaining("choose another");
    }

    @Test
    void a_folder_that_holds_other_files_is_refused_naming_it_and_nothing_is_written_into_it() throws Exception {
        Path data = folder.resolve("data");
        Files.createDirectories(data.resolve("images"));
        Files.writeString(data.resolve("labels.csv"), "a.jpg,cat\n");

        assertThatThrownBy(() -> ChunkCache.open(data, 1 << 20)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(data + " is not a Ferry cache")
                .hasMessageContaining("choose an empty or new folder for --cache-dir");
        assertThatThrownBy(() -> ChunkCache.checkFolder(data)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(data + " is not a Ferry cache");
        ChunkCache.checkFolder(folder.resolve("new")); // a folder to be made is fine

        try (var entries = Files.list(data)) {
            assertThat(entries.map(entry -> entry.getFileName().toString())).containsExactlyInAnyOrder("images",
                    "labels.csv");
        }
        assertThat(data.resolve("images")).isEmptyDirectory();
    }

    @Test
    void an_empty_folder_a_new_disk_holding_only_lost_and_found_and_an_existing_cache_all_open() throws Exception {
        Path empty = folder.resolve("empty");
        Files.createDirectories(empty);
        ChunkCache.open(empty, 1 << 20).close();
        assertThat(empty.resolve("chunks")).isDirectory();

        Path disk = folder.resolve("disk");
        Files.createDirectories(disk.resolve("lost+found"));
        ChunkCache.open(disk, 1 << 20).close();
        assertThat(disk.resolve("ledger")).isRegularFile();

        try (ChunkCache cache = open(1 << 20)) {
            putAll(cache, 0, 2);
        }
        try (ChunkCache reopened = open(1 << 20)) {
            assertThat(read(reopened, key(1), DATA)).isEqualTo(content(key(1), DATA));
        }
    }

    @Test
    void opening_a_sound_cache_scans_nothing_and_the_next_scan_deletes_the_temporary_files_of_dead_writers_only()
            throws Exception {
        ChunkCache first = open(1 << 20);
        putAll(first, 0, 1);
        first.close();
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path fan = chunkFile(dir(), key(0)).getParent();
        String stem = "." + CacheFixtures.hashOf(OBJECT);
        Path abandoned = fan.resolve(stem + ".5." + gone.pid() + ".1f2e.10.ferry-tmp");
        Path live = fan.resolve(CacheLayout.tempName(stem.substring(1) + ".6", 10));
        // Left by an earlier process that had this pid too (a restarted container's pid 1): not this one's.
        Path predecessor = fan.resolve(stem + ".7." + ProcessHandle.current().pid() + ".3c4d.10.ferry-tmp");
        // Written in another container sharing the folder: its pid means nothing here, so only its age tells.
        Path otherContainer = fan.resolve(stem + ".8." + gone.pid() + "@0badc0de.5e6f.10.ferry-tmp");
        Path otherContainerLongGone = fan.resolve(stem + ".9." + gone.pid() + "@0badc0de.7a8b.10.ferry-tmp");
        Files.writeString(abandoned, "half");
        Files.writeString(live, "being written");
        Files.writeString(predecessor, "half");
        Files.writeString(otherContainer, "being written");
        Files.writeString(otherContainerLongGone, "half");
        Files.setLastModifiedTime(otherContainerLongGone, FileTime.from(Instant.now().minus(Duration.ofHours(2))));

        ChunkCache second = open(1_500);
        assertThat(abandoned).as("a sound ledger within the budget: opening scans nothing").exists();
        assertThat(second.contains(key(0))).isTrue();

        putAll(second, 1, 2); // 2 000 bytes counted against 1 500: the folder is scanned, and chunk 0 evicted

        assertThat(abandoned).doesNotExist();
        assertThat(predecessor).doesNotExist();
        assertThat(otherContainerLongGone).doesNotExist();
        assertThat(live).exists();
        assertThat(otherContainer).exists();
        assertThat(second.contains(key(0))).isFalse();
        assertThat(second.contains(key(1))).isTrue();
        assertThat(second.contains(key(5))).isFalse();
        assertThat(second.contains(key(6))).isFalse();
        assertThat(second.status().chunkCount()).isEqualTo(1);
    }

    @Test
    void a_chunk_being_written_counts_against_the_budget_at_its_final_size() throws Exception {
        ChunkCache first = open(1 << 20);
        putAll(first, 0, 9);
        first.close();
        // Another process is writing a 1000-byte chunk that the ledger does not count.
        Path live = chunkFile(dir(), key(0)).resolveSibling(CacheLayout.tempName(CacheFixtures.hashOf(OBJECT) + ".9",
                1000));
        Files.writeString(live, "being written");

        ChunkCache cache = open(10_000);
        putAll(cache, 10, 12);

        // Chunk 11 finds 10 000 bytes counted and scans: 10 chunks and the one being written are 11 000 bytes, 8 000
        // once three chunks go. Counting the chunks alone it would evict two and leave 9 000 bytes of chunks.
        assertThat(chunkBytes(dir())).isEqualTo(8_000);
        assertThat(cache.status().thisProcess().evictions()).isEqualTo(3);
    }

    @Test
    void a_chunk_larger_than_the_whole_budget_is_not_stored() throws Exception {
        try (CacheFixtures.Logs logs = new CacheFixtures.Logs()) {
            ChunkCache cache = open(500);
            assertThat(put(cache, key(0), content(key(0), DATA))).isFalse();
            assertThat(put(cache, key(1), content(key(1), DATA))).isFalse();

            assertThat(files(dir())).isEmpty();
            assertThat(cache.status().thisProcess().storeFailures()).isEqualTo(2);
            assertThat(logs.warnings()).singleElement().asString()
                    .contains("exceed the whole budget of 500 bytes").contains("raise the cache budget");
        }
    }

    @Test
    void open_chunk_files_stay_within_the_channel_pool() throws Exception {
        ChunkCache cache = ChunkCache.open(dir(), 1 << 20, 2, ticker, Clock.systemUTC());
        opened.add(cache);
        putAll(cache, 0, 6);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 6; i++) {
                assertThat(read(cache, key(i), DATA)).isEqualTo(content(key(i), DATA));
                assertThat(openChunkFiles()).as("round %d, chunk %d", round, i).isBetween(1L, 2L);
            }
        }
        cache.close();
        assertThat(openChunkFiles()).isZero();
    }

    /** Descriptors of this process open on files under the cache's chunks folder. */
    private long openChunkFiles() throws IOException {
        Path chunks = dir().resolve("chunks").toRealPath();
        long count = 0;
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    count += Files.readSymbolicLink(fd).startsWith(chunks) ? 1 : 0;
                } catch (IOException e) {
                    // The descriptor of the listing itself, closed by now.
                }
            }
        }
        return count;
    }

    @Test
    void a_damaged_ledger_is_rebuilt_from_the_folder() throws Exception {
        ChunkCache first = open(10_000);
        putAll(first, 0, 10);
        first.close();
        Files.write(dir().resolve("ledger"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
                44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64});

        ChunkCache cache = open(10_000);
        putAll(cache, 10, 11);

        assertThat(chunkBytes(dir())).isEqualTo(9_000);
        assertThat(cache.status().allTime().hits()).isZero();
    }

    @Test
    void the_budget_holds_the_disk_space_chunks_take_not_the_sum_of_their_sizes() throws Exception {
        // Files of 4,097 bytes take two blocks of 4 KiB: counting sizes would let the folder take twice its budget.
        int data = 4097 - ChunkFormat.TRAILER_BYTES;
        long budget = 20 * 4096;
        try (ChunkCache cache = ChunkCache.open(dir(), budget)) {
            for (int i = 0; i < 40; i++) {
                assertThat(put(cache, key(i), content(key(i), data))).as("put chunk %d", i).isTrue();
                assertThat(allocatedChunkBytes(dir())).as("after chunk %d", i).isLessThanOrEqualTo(budget);
            }
            CacheStatus status = cache.status();
            assertThat(status.usedBytes()).isEqualTo(allocatedChunkBytes(dir()));
            assertThat(status.chunkCount()).isBetween(9L, 10L);
            assertThat(status.thisProcess().evictions()).isPositive();
        }
    }

    @Test
    void the_space_an_object_is_said_to_need_is_the_space_its_chunks_take_once_stored() throws Exception {
        // Three chunks of 4 KiB, the last short, each with the description and trailer: what a preload checks first.
        int chunkSize = 4096;
        long size = 2L * chunkSize + 100;
        String location = "s3://bucket/train/b.bin";
        String id = location + "#v1#" + chunkSize;
        try (ChunkCache cache = ChunkCache.open(dir(), 1 << 20)) {
            long said = cache.space(id, location, size, chunkSize);
            cache.describe(id, location, size);
            for (int i = 0; i < 3; i++) {
                ChunkKey key = new ChunkKey(id, i);
                assertThat(put(cache, key, content(key, (int) Math.min(chunkSize, size - i * chunkSize)))).isTrue();
            }
            assertThat(said).isEqualTo(allocatedChunkBytes(dir())).isEqualTo(cache.status().usedBytes())
                    .isGreaterThan(size);
            assertThat(cache.space(id, location, 0, chunkSize)).as("an empty object has no chunks").isZero();
            assertThat(cache.budgetBytes()).isEqualTo(1 << 20);
        }
    }

    @Test
    void a_ledger_that_counted_file_sizes_is_counted_again_in_disk_space_and_keeps_its_counters() throws Exception {
        long budget = 1 << 20;
        try (ChunkCache first = ChunkCache.open(dir(), budget)) {
            for (int i = 0; i < 3; i++) {
                assertThat(put(first, key(i), content(key(i), DATA))).isTrue();
            }
        }
        // The ledger as the version before wrote it: "FERRYLG1", bytes used as file sizes, five counters, CRC32C.
        ByteBuffer record = ByteBuffer.allocate(8 + 8 + 5 * 8 + 8);
        record.putLong(0x46455252_594C4731L).putLong(3_000).putLong(7).putLong(0).putLong(0).putLong(0).putLong(0);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(record.array(), 0, record.position());
        record.putLong(crc.getValue());
        Files.write(dir().resolve(CacheLayout.LEDGER), record.array());

        try (ChunkCache cache = ChunkCache.open(dir(), budget);
                Ledger ledger = Ledger.open(dir().resolve(CacheLayout.LEDGER))) {
            long counted = ledger.locked(state -> state.usedBytes);
            assertThat(counted).isEqualTo(allocatedChunkBytes(dir()))
                    .isEqualTo(3 * 4096);
            assertThat(cache.status().allTime().hits()).isEqualTo(7);
        }
    }

    @Test
    void an_interrupted_thread_reads_and_puts_keeps_its_interrupt_and_leaves_the_cache_working() throws Exception {
        ChunkCache cache = open(1 << 20);
        putAll(cache, 0, 1);
        assertThat(read(cache, key(0), DATA)).isNotNull();

        Thread.currentThread().interrupt();
        byte[] got = read(cache, key(0), DATA);
        boolean putStored = put(cache, key(1), content(key(1), DATA));
        boolean stillInterrupted = Thread.interrupted();

        assertThat(got).isEqualTo(content(key(0), DATA));
        assertThat(putStored).isTrue();
        assertThat(stillInterrupted).isTrue();
        FutureTask<Void> other = new FutureTask<>(() -> {
            assertThat(read(cache, key(0), DATA)).as("the shared channel is still open").isNotNull();
            assertThat(put(cache, key(2), content(key(2), DATA))).as("the ledger is still open").isTrue();
            return null;
        });
        Thread.ofPlatform().start(other);
        other.get();
        assertThat(cache.status().thisProcess().misses()).isZero();
        assertThat(cache.status().chunkCount()).isEqualTo(3);
    }

    @Test
    void reads_and_puts_after_close_miss_quietly() throws Exception {
        ChunkCache cache = open(1 << 20);
        putAll(cache, 0, 1);
        cache.close();

        assertThat(cache.read(key(0), 0, ByteBuffer.allocate(10))).isEqualTo(-1);
        assertThat(put(cache, key(1), content(key(1), DATA))).isFalse();
        assertThat(cache.contains(key(0))).isFalse();
    }
}

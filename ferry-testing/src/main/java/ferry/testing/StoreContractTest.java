package ferry.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.FolderListing;
import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link ObjectStore} promises, run against each backend. A subclass supplies the store and a
 * fresh, empty prefix per test; a backend that differs overrides a capability method and says why.
 */
public abstract class StoreContractTest {
    /** The store under test. */
    protected abstract ObjectStore store();

    /** An empty prefix (ending in {@code /}) for the current test. */
    protected abstract Location root();

    /** Bytes large enough to make the backend take its large-object path (multipart on S3). */
    protected int largeObjectSize() {
        return 3 * 1024 * 1024 + 17;
    }

    protected final ObjectInfo put(Location location, byte[] bytes) throws IOException {
        try (ObjectOutput out = store().createOrOverwrite(location, WriteOptions.DEFAULT)) {
            out.write(bytes);
            return out.commit();
        }
    }

    protected final byte[] read(Location location) throws IOException {
        try (InputStream in = store().openStream(location)) {
            return in.readAllBytes();
        }
    }

    protected final List<String> keys(Location prefix) throws IOException {
        List<String> keys = new ArrayList<>();
        ObjectListing listing = store().list(prefix);
        while (listing.hasNext()) {
            keys.add(root().relativize(listing.next().location()));
        }
        return keys;
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void write_then_read_returns_the_same_bytes_and_stat_reports_size_and_checksum() throws IOException {
        Location location = root().resolve("a/b.txt");
        byte[] bytes = "hello, ferry".getBytes(UTF_8);

        ObjectInfo written = put(location, bytes);

        assertThat(read(location)).isEqualTo(bytes);
        assertThat(written.size()).isEqualTo(bytes.length);
        assertThat(written.crc32c()).isEqualTo(Crc32c.of(bytes));
        ObjectInfo stat = store().stat(location);
        assertThat(stat.location()).isEqualTo(location);
        assertThat(stat.size()).isEqualTo(bytes.length);
        assertThat(stat.etag()).isNotEmpty();
    }

    @Test
    void empty_object_round_trips() throws IOException {
        Location location = root().resolve("empty");
        put(location, new byte[0]);
        assertThat(read(location)).isEmpty();
        assertThat(store().stat(location).size()).isZero();
    }

    @Test
    void large_object_round_trips_with_its_checksum() throws IOException {
        Location location = root().resolve("large.bin");
        byte[] bytes = randomBytes(largeObjectSize(), 1);

        ObjectInfo written = put(location, bytes);

        assertThat(read(location)).isEqualTo(bytes);
        assertThat(written.crc32c()).isEqualTo(Crc32c.of(bytes));
        assertThat(store().stat(location).size()).isEqualTo(bytes.length);
    }

    @Test
    void ranged_read_returns_the_requested_bytes_and_stops_at_the_end() throws IOException {
        Location location = root().resolve("range.bin");
        byte[] bytes = randomBytes(10_000, 2);
        put(location, bytes);

        try (InputStream in = store().openStream(location, 1_000, 500)) {
            assertThat(in.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(bytes, 1_000, 1_500));
        }
        try (InputStream in = store().openStream(location, 9_900, 500)) {
            assertThat(in.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(bytes, 9_900, 10_000));
        }
    }

    @Test
    void a_read_describes_the_whole_object_also_for_a_range() throws IOException {
        Location location = root().resolve("described.bin");
        byte[] bytes = randomBytes(5_000, 5);
        ObjectInfo written = put(location, bytes);

        try (ObjectInputStream in = store().openStream(location, 100, 10)) {
            assertThat(in.info().size()).isEqualTo(5_000);
            assertThat(in.info().etag()).isEqualTo(store().stat(location).etag());
            if (recordsChecksums()) {
                assertThat(in.info().crc32c()).isEqualTo(written.crc32c());
            }
            assertThat(in.readAllBytes()).hasSize(10);
        }
    }

    @Test
    void keys_with_spaces_symbols_and_non_ascii_letters_round_trip() throws IOException {
        List<String> keys = List.of("with space/a b.txt", "plus+and&amp=eq;semi", "percent%20not-an-escape",
                "question?hash#bang!", "unicode/été/日本.bin", "tilde~star*(paren)'quote,comma$dollar@at");
        for (String key : keys) {
            put(root().resolve(key), key.getBytes(UTF_8));
        }
        for (String key : keys) {
            Location location = root().resolve(key);
            assertThat(read(location)).as(key).isEqualTo(key.getBytes(UTF_8));
            assertThat(store().stat(location).size()).as(key).isEqualTo(key.getBytes(UTF_8).length);
            try (InputStream in = store().openStream(location, 1, 3)) {
                assertThat(in.readAllBytes()).as(key).isEqualTo(key.substring(1, 4).getBytes(UTF_8));
            }
        }
        assertThat(keys(root())).containsExactlyInAnyOrderElementsOf(keys);
    }

    /** Whether the store keeps the CRC32C of what Ferry wrote (in object metadata), so reads can report it. */
    protected boolean recordsChecksums() {
        return true;
    }

    @Test
    void missing_object_is_not_found_and_the_error_names_it() {
        Location missing = root().resolve("no/such/object");
        assertThatThrownBy(() -> store().stat(missing))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("no/such/object");
        assertThatThrownBy(() -> read(missing))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("no/such/object");
    }

    @Test
    void a_key_that_is_only_a_prefix_of_others_is_not_found() throws IOException {
        put(root().resolve("images/cat.jpg"), "meow".getBytes(UTF_8));
        Location prefixOnly = root().resolve("images");
        assertThatThrownBy(() -> store().stat(prefixOnly)).isInstanceOf(ObjectNotFoundException.class);
        assertThatThrownBy(() -> read(prefixOnly))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("images");
    }

    @Test
    void listing_is_recursive_in_key_order_and_skips_nothing() throws IOException {
        for (String key : List.of("b/2", "a-c", "a/1", "a/z/3", "c", "a/0")) {
            put(root().resolve(key), key.getBytes(UTF_8));
        }
        // Byte order: '-' (0x2d) sorts before '/' (0x2f).
        assertThat(keys(root())).containsExactly("a-c", "a/0", "a/1", "a/z/3", "b/2", "c");
        assertThat(keys(root().resolve("a/"))).containsExactly("a/0", "a/1", "a/z/3");
    }

    @Test
    void listing_a_prefix_without_slash_matches_siblings_that_share_it() throws IOException {
        put(root().resolve("img/1"), new byte[1]);
        put(root().resolve("img2/2"), new byte[2]);
        put(root().resolve("other"), new byte[3]);
        assertThat(keys(root().resolve("img"))).containsExactly("img/1", "img2/2");
    }

    @Test
    void listing_walks_nested_folders_in_byte_order() throws IOException {
        for (String key : List.of("top", "a/z", "a/b/x/y/z", "a/b0", "a/b/c.d/e", "a!", "a/b.txt", "a/b/c", "a/\u00e9",
                "a/b-c/d", "a/b/c-d", "a0")) {
            put(root().resolve(key), key.getBytes(UTF_8));
        }
        // Byte order: '!' < '-' < '.' < '/' < '0' < 'z' < 'é' (0xc3 0xa9), so everything below a/b/ sorts after
        // a/b.txt and before a/b0, and a key comes before the longer keys it begins.
        assertThat(keys(root())).containsExactly("a!", "a/b-c/d", "a/b.txt", "a/b/c", "a/b/c-d", "a/b/c.d/e",
                "a/b/x/y/z", "a/b0", "a/z", "a/\u00e9", "a0", "top");
        assertThat(keys(root().resolve("a/b/"))).containsExactly("a/b/c", "a/b/c-d", "a/b/c.d/e", "a/b/x/y/z");
        assertThat(keys(root().resolve("a/b"))).containsExactly("a/b-c/d", "a/b.txt", "a/b/c", "a/b/c-d", "a/b/c.d/e",
                "a/b/x/y/z", "a/b0");
    }

    @Test
    void listing_orders_by_utf8_bytes_not_utf16_units() throws IOException {
        // U+FF21 (3 bytes in UTF-8) sorts before U+1F600 (4 bytes); as UTF-16 units (0xff21 against the surrogate
        // 0xd83d) it would sort after it. Each also begins a folder, so the order holds between levels too.
        for (String key : List.of("x\ud83d\ude00", "x\uff21", "x\ud83d\ude00d/1", "x\uff21d/1")) {
            put(root().resolve(key), key.getBytes(UTF_8));
        }
        List<String> byUtf8 = List.of("x\uff21", "x\uff21d/1", "x\ud83d\ude00", "x\ud83d\ude00d/1");
        if (ordersKeysByUtf8Bytes()) {
            assertThat(keys(root())).containsExactlyElementsOf(byUtf8);
        } else {
            assertThat(keys(root())).as("in the server's own order, every key once")
                    .containsExactlyInAnyOrderElementsOf(byUtf8);
        }
    }

    /**
     * Whether the store lists keys in the order of their UTF-8 bytes above U+FFFF too, as S3 does; a store that does
     * not must still list every key once.
     */
    protected boolean ordersKeysByUtf8Bytes() {
        return true;
    }

    @Test
    void listing_a_prefix_without_slash_walks_every_matching_folder_in_order() throws IOException {
        for (String key : List.of("img2/b", "im/x", "img/c", "imgz", "img/a/b", "imh", "img.txt")) {
            put(root().resolve(key), key.getBytes(UTF_8));
        }
        assertThat(keys(root().resolve("img"))).containsExactly("img.txt", "img/a/b", "img/c", "img2/b", "imgz");
    }

    @Test
    void listing_reports_sizes() throws IOException {
        put(root().resolve("x"), new byte[7]);
        ObjectListing listing = store().list(root());
        assertThat(listing.hasNext()).isTrue();
        ObjectInfo info = listing.next();
        assertThat(info.size()).isEqualTo(7);
        assertThat(info.location()).isEqualTo(root().resolve("x"));
        assertThat(listing.hasNext()).isFalse();
    }

    @Test
    void listing_an_absent_prefix_is_empty() throws IOException {
        assertThat(keys(root().resolve("nothing/here/"))).isEmpty();
    }

    @Test
    void abandoned_write_leaves_nothing_visible() throws IOException {
        Location location = root().resolve("half");
        try (ObjectOutput out = store().createOrOverwrite(location, WriteOptions.DEFAULT)) {
            out.write(randomBytes(largeObjectSize(), 3));
            // no commit: as if the writer failed half way
        }
        assertThatThrownBy(() -> store().stat(location)).isInstanceOf(ObjectNotFoundException.class);
        assertThat(keys(root())).isEmpty();
    }

    @Test
    void nothing_is_visible_before_commit() throws IOException {
        Location location = root().resolve("pending");
        try (ObjectOutput out = store().createOrOverwrite(location, WriteOptions.DEFAULT)) {
            out.write(new byte[100]);
            assertThatThrownBy(() -> store().stat(location)).isInstanceOf(ObjectNotFoundException.class);
            assertThat(keys(root())).isEmpty();
            out.commit();
        }
        assertThat(store().stat(location).size()).isEqualTo(100);
    }

    @Test
    void overwrite_replaces_the_object_whole() throws IOException {
        Location location = root().resolve("o");
        put(location, "first version".getBytes(UTF_8));
        put(location, "second".getBytes(UTF_8));
        assertThat(read(location)).isEqualTo("second".getBytes(UTF_8));
    }

    @Test
    void create_fails_when_the_object_exists_and_keeps_the_original() throws IOException {
        Location location = root().resolve("exclusive");
        put(location, "original".getBytes(UTF_8));

        assertThatThrownBy(() -> {
                    try (ObjectOutput out = store().create(location, WriteOptions.DEFAULT)) {
                        out.write("intruder".getBytes(UTF_8));
                        out.commit();
                    }
                })
                .isInstanceOf(ObjectExistsException.class)
                .hasMessageContaining("exclusive");
        assertThat(read(location)).isEqualTo("original".getBytes(UTF_8));
    }

    @Test
    void concurrent_exclusive_creates_have_exactly_one_winner() throws Exception {
        Location location = root().resolve("race");
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                byte[] bytes = ("writer " + i).getBytes(UTF_8);
                Callable<Boolean> attempt = () -> {
                    try (ObjectOutput out = store().create(location, WriteOptions.DEFAULT)) {
                        out.write(bytes);
                        out.commit();
                        return true;
                    } catch (ObjectExistsException e) {
                        return false;
                    }
                };
                results.add(pool.submit(attempt));
            }
            int winners = 0;
            for (Future<Boolean> result : results) {
                winners += result.get() ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
            assertThat(new String(read(location), UTF_8)).startsWith("writer ");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void commit_with_a_wrong_announced_checksum_fails_and_leaves_nothing() throws IOException {
        Location location = root().resolve("checked");
        byte[] bytes = "payload".getBytes(UTF_8);
        String wrong = Crc32c.of("other".getBytes(UTF_8));

        assertThatThrownBy(() -> {
                    try (ObjectOutput out = store().createOrOverwrite(location, WriteOptions.expecting(wrong, bytes.length))) {
                        out.write(bytes);
                        out.commit();
                    }
                })
                .isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("checked");
        assertThatThrownBy(() -> store().stat(location)).isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void commit_with_the_right_announced_checksum_succeeds_for_a_large_object() throws IOException {
        Location location = root().resolve("announced.bin");
        byte[] bytes = randomBytes(largeObjectSize(), 4);
        try (ObjectOutput out =
                store().createOrOverwrite(location, WriteOptions.expecting(Crc32c.of(bytes), bytes.length))) {
            out.write(bytes);
            assertThat(out.commit().crc32c()).isEqualTo(Crc32c.of(bytes));
        }
        assertThat(read(location)).isEqualTo(bytes);
    }

    @Test
    void delete_removes_the_object_and_deleting_again_is_fine() throws IOException {
        Location location = root().resolve("gone");
        put(location, new byte[1]);
        store().delete(location);
        assertThatThrownBy(() -> store().stat(location)).isInstanceOf(ObjectNotFoundException.class);
        store().delete(location);
    }

    @Test
    void list_folder_returns_one_level_with_objects_and_subfolders_in_key_order() throws IOException {
        for (String key : List.of("d/b.txt", "d/a.txt", "d/sub/x", "d/sub/deeper/y", "d/a-z/z", "d/ä.txt", "e/other")) {
            put(root().resolve(key), key.getBytes(UTF_8));
        }

        FolderListing level = store().listFolder(root().resolve("d/"));

        assertThat(level.objects()).extracting(o -> root().relativize(o.location()))
                .containsExactly("d/a.txt", "d/b.txt", "d/ä.txt");
        assertThat(level.objects()).extracting(ObjectInfo::size).containsExactly(7L, 7L, 8L);
        assertThat(level.objects()).allSatisfy(o -> assertThat(o.etag()).isNotEmpty());
        assertThat(level.folders()).containsExactly("a-z", "sub");
        assertThat(store().listFolder(root().resolve("d/sub/")).folders()).containsExactly("deeper");
        assertThat(store().listFolder(root()).folders()).containsExactly("d", "e");
    }

    @Test
    void list_folder_of_a_missing_folder_is_empty() throws IOException {
        FolderListing level = store().listFolder(root().resolve("nothing-here/"));
        assertThat(level.objects()).isEmpty();
        assertThat(level.folders()).isEmpty();
    }
}

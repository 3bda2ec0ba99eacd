package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.cache.ChunkCache;
import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.store.local.LocalStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a folder's files in name order fetches the next ones ahead; any other order fetches nothing extra. */
class FolderReadAheadTest {
    @TempDir
    Path folder;

    private CountingStore store;
    private ChunkCache cache;
    private ChunkReader reader;
    private FolderReadAhead readAhead;
    private Namespace namespace;
    private Manifest manifest;

    @BeforeEach
    void setUp() throws IOException {
        Path data = folder.resolve("data/train");
        Files.createDirectories(data);
        List<Manifest.Entry> entries = new ArrayList<>();
        LocalStore local = new LocalStore();
        for (int i = 0; i < 40; i++) {
            String name = String.format("%03d.jpg", i);
            Files.writeString(data.resolve(name), "image " + i);
            var stat = local.stat(Location.of(data.resolve(name)));
            entries.add(new Manifest.Entry("train/" + name, stat.size(), null, null, stat.etag(), Instant.EPOCH));
        }
        manifest = new Manifest(Manifest.FORMAT, "t", 1, Location.of(folder.resolve("data")).asDirectory()
                .toString(), Instant.EPOCH, null, null, entries);
        store = new CountingStore(local);
        cache = ChunkCache.open(folder.resolve("cache"), 1L << 30);
        // read-ahead slots for all 17 fetches: one still held by a finished-but-unreleased fetch must not skip file 018
        reader = new ChunkReader(store, cache, 1 << 20, 4, 32);
        namespace = new DatasetNamespace(manifest);
        readAhead = new FolderReadAhead(namespace, reader);
    }

    @AfterEach
    void tearDown() {
        reader.close();
        cache.close();
    }

    private void waitForReads(int count) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (store.readPositions.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    @Test
    void opening_files_in_name_order_fetches_the_next_files_ahead() throws Exception {
        readAhead.opened("/train/000.jpg");
        readAhead.opened("/train/001.jpg");
        waitForReads(16);
        assertThat(store.readPositions).hasSize(16); // files 002 to 017, one chunk each

        readAhead.opened("/train/002.jpg"); // already fetched through 017: only 018 is new
        reader.close(); // waits for every fetch that was started
        assertThat(store.readPositions).hasSize(17);
    }

    @Test
    void files_skipped_while_every_read_ahead_slot_was_busy_are_fetched_on_a_later_open() throws Exception {
        reader.close();
        reader = new ChunkReader(store, cache, 1 << 20, 4, 4); // four read-ahead slots
        readAhead = new FolderReadAhead(namespace, reader);
        store.gate = new CountDownLatch(1); // the first fetches hold their slots

        readAhead.opened("/train/000.jpg");
        readAhead.opened("/train/001.jpg");
        waitForReads(4);
        assertThat(store.readPositions).hasSize(4); // files 002 to 005; 006 to 017 found no slot
        store.gate.countDown();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (reader.freeReadAheadSlots() < 4 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }

        store.gate = new CountDownLatch(1);
        readAhead.opened("/train/002.jpg"); // starts again at 006, not at 018: 006 to 009 take the four slots
        waitForReads(8);
        assertThat(store.readPositions).hasSize(8);
        store.gate.countDown();
        reader.close();
        assertThat(store.readPositions).hasSize(8);
    }

    @Test
    void opening_files_out_of_order_fetches_nothing_ahead() throws Exception {
        for (String name : List.of("031", "004", "017", "009", "025", "002", "038")) {
            readAhead.opened("/train/" + name + ".jpg");
        }
        reader.close(); // waits for any fetch that was started
        assertThat(store.readPositions).isEmpty();
    }
}

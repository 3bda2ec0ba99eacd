package ferry.s3;

import static ferry.s3.S3StoreTest.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Whole-object reads of large objects over Ferry's own requests, part by part, against s3proxy on loopback. */
@Timeout(60)
class PartedReadTest {
    private static final String BUCKET = "ferry-parted";
    private static final int PART = S3Config.MIN_PART_SIZE;
    private static S3TestServer server;
    private static S3Store store;

    private final Location root = Location.of("s3://" + BUCKET + "/" + UUID.randomUUID() + "/");

    @BeforeAll
    static void startServer() throws IOException {
        server = S3TestServer.newServer();
        server.createBucket(BUCKET);
        // Objects larger than one part are read in parts.
        store = new S3Store(S3Config.fromEnvironment(server.environment()).withPartSize(PART), S3Store.MAX_SINGLE_COPY,
                null, PART, true);
    }

    @AfterAll
    static void stopServer() {
        if (store != null) {
            store.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ObjectInfo put(Location location, byte[] bytes) throws IOException {
        return S3StoreTest.put(store, location, bytes, WriteOptions.DEFAULT);
    }

    @Test
    void a_large_object_arrives_whole_in_one_get_per_part() throws IOException {
        Location location = root.resolve("large.bin");
        byte[] bytes = randomBytes(4 * PART + PART / 2, 1);
        ObjectInfo written = put(location, bytes);

        long before = server.requests("GET");
        try (ObjectInputStream in = store.openStream(location)) {
            assertThat(in).isInstanceOf(PartedRead.class);
            assertThat(in.info().size()).isEqualTo(bytes.length);
            assertThat(in.info().etag()).isEqualTo(written.etag());
            assertThat(in.info().crc32c()).isEqualTo(written.crc32c()); // what a copy checks the bytes against
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        assertThat(server.requests("GET") - before).isEqualTo(5);
    }

    @Test
    void an_object_within_one_part_is_one_get_and_an_empty_object_reads_empty() throws IOException {
        Location small = root.resolve("small.bin");
        byte[] bytes = randomBytes(PART, 2);
        put(small, bytes);
        Location empty = root.resolve("empty.bin");
        put(empty, new byte[0]);

        long before = server.requests("GET");
        try (ObjectInputStream in = store.openStream(small)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        assertThat(server.requests("GET") - before).isEqualTo(1);
        try (ObjectInputStream in = store.openStream(empty)) {
            assertThat(in.readAllBytes()).isEmpty();
            assertThat(in.info().size()).isZero();
        }
    }

    @Test
    void with_no_memory_to_spare_each_part_is_streamed_from_its_own_get() throws IOException {
        Location location = root.resolve("streamed.bin");
        byte[] bytes = randomBytes(3 * PART + 7, 6);
        put(location, bytes);
        PartedRead.Ranges ranges = (start, end) -> (S3InputStream) store.openStream(location, start, end - start);

        long before = server.requests("GET");
        try (ObjectInputStream in = PartedRead.open(ranges.open(0, bytes.length), ranges, PART, PART,
                new Semaphore(0))) {
            assertThat(in).isInstanceOf(PartedRead.class);
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        assertThat(server.requests("GET") - before).isEqualTo(4);
    }

    @Test
    void an_object_replaced_while_it_is_read_fails_naming_it_rather_than_mixing_versions() throws IOException {
        Location location = root.resolve("replaced.bin");
        int size = (PartedRead.AHEAD + 3) * PART;
        put(location, randomBytes(size, 3));

        try (ObjectInputStream in = store.openStream(location)) {
            // Replaced after the first parts were asked for: the later parts come from the new version.
            put(location, randomBytes(size, 4));
            assertThatThrownBy(in::readAllBytes).isInstanceOf(StoreException.class)
                    .hasMessageContaining(location + " changed while it was read");
        }
    }

    @Test
    void a_read_closed_half_way_gives_back_the_memory_of_its_parts_fetched_ahead() throws Exception {
        Location location = root.resolve("abandoned.bin");
        byte[] bytes = randomBytes((PartedRead.AHEAD + 2) * PART, 5);
        put(location, bytes);

        // Each read is abandoned with parts fetched ahead or in flight, more than the budget holds all together.
        for (int i = 0; i < 20; i++) {
            try (ObjectInputStream in = store.openStream(location)) {
                assertThat(in.readNBytes(PART + 1)).isEqualTo(Arrays.copyOf(bytes, PART + 1));
            }
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (PartedRead.budgetInUse() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(PartedRead.budgetInUse()).isZero();
    }
}

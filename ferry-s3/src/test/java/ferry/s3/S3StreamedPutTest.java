package ferry.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Large objects of known size and CRC32C go as one streamed PUT; bytes that differ from the announcement never land. */
@Timeout(60)
class S3StreamedPutTest {
    private static final String BUCKET = "streamed";
    private static final int SIZE = 9 * 1024 * 1024 + 3; // above the part size, so not buffered as one small PUT
    private static S3TestServer server;
    private static S3Store store;

    private final Location root = Location.of("s3://" + BUCKET + "/" + UUID.randomUUID() + "/");
    private final byte[] bytes = randomBytes();

    @BeforeAll
    static void startServer() throws IOException {
        server = S3TestServer.builder().inMemory().start();
        server.createBucket(BUCKET);
        store = new S3Store(S3Config.fromEnvironment(server.environment()));
    }

    @AfterAll
    static void stopServer() {
        store.close();
        server.close();
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[SIZE];
        new Random(5).nextBytes(bytes);
        return bytes;
    }

    @Test
    void an_announced_large_object_is_one_put_with_its_checksum_and_no_multipart_upload() throws Exception {
        Location location = root.resolve("big.bin");
        WriteOptions options = WriteOptions.expecting(Crc32c.of(bytes), bytes.length);
        try (ObjectOutput out = store.createOrOverwrite(location, options)) {
            assertThat(out).isInstanceOf(S3StreamedPut.class);
            out.write(bytes, 0, 1000);
            out.write(bytes, 1000, bytes.length - 1000);
            assertThat(out.commit().crc32c()).isEqualTo(Crc32c.of(bytes));
        }
        try (InputStream in = store.openStream(location)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        assertThat(store.stat(location).crc32c()).isEqualTo(Crc32c.of(bytes));
        assertThat(store.client().listMultipartUploads(b -> b.bucket(BUCKET)).join().uploads()).isEmpty();
    }

    @Test
    void a_body_that_takes_longer_than_the_attempt_timeout_to_arrive_is_stored_whole() throws Exception {
        // A writer slower than the attempt timeout (here 2 s), as under a bandwidth limit: its bytes keep coming.
        S3Config quick = S3Config.fromEnvironment(server.environment()).withRetries(Duration.ofSeconds(2), 4);
        Location location = root.resolve("slow.bin");
        try (S3Store slowStore = new S3Store(quick);
                ObjectOutput out = slowStore.createOrOverwrite(location,
                        WriteOptions.expecting(Crc32c.of(bytes), bytes.length))) {
            assertThat(out).isInstanceOf(S3StreamedPut.class);
            int piece = bytes.length / 8 + 1;
            for (int offset = 0; offset < bytes.length; offset += piece) {
                out.write(bytes, offset, Math.min(piece, bytes.length - offset));
                Thread.sleep(400); // 8 pieces: about 3.2 s in all
            }
            out.commit();
        }
        try (InputStream in = store.openStream(location)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
    }

    @Test
    void bytes_that_do_not_match_the_announced_checksum_are_never_stored() {
        Location location = root.resolve("wrong.bin");
        byte[] other = bytes.clone();
        other[SIZE - 1] ^= 1; // the last byte differs: the body is cancelled before it is sent
        assertThatThrownBy(() -> {
                    try (ObjectOutput out = store.createOrOverwrite(location,
                            WriteOptions.expecting(Crc32c.of(bytes), bytes.length))) {
                        out.write(other);
                        out.commit();
                    }
                })
                .isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining("wrong.bin");
        assertThatThrownBy(() -> store.stat(location)).isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void a_source_that_ends_early_or_runs_long_stores_nothing() {
        Location shorter = root.resolve("short.bin");
        assertThatThrownBy(() -> {
                    try (ObjectOutput out = store.createOrOverwrite(shorter,
                            WriteOptions.expecting(Crc32c.of(bytes), bytes.length))) {
                        out.write(Arrays.copyOf(bytes, SIZE - 10));
                        out.commit();
                    }
                })
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("changed while it was copied");
        assertThatThrownBy(() -> store.stat(shorter)).isInstanceOf(ObjectNotFoundException.class);

        Location longer = root.resolve("long.bin");
        assertThatThrownBy(() -> {
                    try (ObjectOutput out = store.createOrOverwrite(longer,
                            WriteOptions.expecting(Crc32c.of(bytes), bytes.length))) {
                        out.write(bytes);
                        out.write(new byte[1]);
                    }
                })
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("more bytes than the announced");
        assertThatThrownBy(() -> store.stat(longer)).isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void an_abandoned_write_stores_nothing() throws Exception {
        Location location = root.resolve("abandoned.bin");
        try (ObjectOutput out = store.createOrOverwrite(location,
                WriteOptions.expecting(Crc32c.of(bytes), bytes.length))) {
            out.write(bytes, 0, SIZE / 2);
        }
        assertThatThrownBy(() -> store.stat(location)).isInstanceOf(ObjectNotFoundException.class);
    }
}

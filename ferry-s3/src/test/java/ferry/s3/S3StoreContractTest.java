package ferry.s3;

import ferry.store.Location;
import ferry.store.ObjectStore;
import ferry.testing.S3TestServer;
import ferry.testing.StoreContractTest;
import java.io.IOException;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract, run against a real S3-compatible server (s3proxy, in process, on loopback) with the smallest
 * part size S3 allows, so that large objects take the multipart path.
 */
class S3StoreContractTest extends StoreContractTest {
    private static final String BUCKET = "contract";
    private static S3TestServer server;
    private static ObjectStore store;

    private final Location root = Location.of("s3://" + BUCKET + "/" + UUID.randomUUID() + "/");

    @BeforeAll
    static void startServer() throws IOException {
        server = S3TestServer.newServer();
        server.createBucket(BUCKET);
        store = S3StoreProvider.newStore(config());
    }

    /** Runs the contract against another store on the same server and configuration. */
    static void replaceStore(Function<S3Config, ObjectStore> open) throws IOException {
        store.close();
        store = open.apply(config());
    }

    private static S3Config config() throws IOException {
        return S3Config.fromEnvironment(server.environment()).withPartSize(S3Config.MIN_PART_SIZE);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (store != null) {
            store.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected ObjectStore store() {
        return store;
    }

    @Override
    protected Location root() {
        return root;
    }

    /**
     * s3proxy sorts keys as Java strings (by UTF-16 units), unlike S3; the walk's merge in UTF-8 order is tested
     * against a fake that sorts as S3 does ({@code S3ListingTest}).
     */
    @Override
    protected boolean ordersKeysByUtf8Bytes() {
        return false;
    }

    /** Three parts of 5 MiB (the last one short), so multipart upload, completion and the checksum copy all run. */
    @Override
    protected int largeObjectSize() {
        return 2 * S3Config.MIN_PART_SIZE + 1024 * 1024 + 17;
    }
}

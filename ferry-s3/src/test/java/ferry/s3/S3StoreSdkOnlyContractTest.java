package ferry.s3;

import java.io.IOException;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract with every request sent through the SDK's client, as it is against AWS itself (no custom
 * endpoint), rather than over {@link S3Http}.
 */
class S3StoreSdkOnlyContractTest extends S3StoreContractTest {
    @BeforeAll
    static void sendEverythingThroughTheSdk() throws IOException {
        replaceStore(config -> new S3Store(config, S3Store.MAX_SINGLE_COPY, null, S3Store.STREAMED_PUT_LIMIT, false));
    }
}

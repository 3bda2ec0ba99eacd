package ferry.s3;

import ferry.store.Location;
import ferry.store.ObjectStore;
import ferry.store.StoreProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/** Serves {@code s3://} locations from any S3-compatible store; found by {@link java.util.ServiceLoader}. */
public final class S3StoreProvider implements StoreProvider {
    @Override
    public String scheme() {
        return Location.S3;
    }

    /**
     * A store configured by {@link S3Config#fromEnvironment}, which records its multipart uploads under
     * {@code $FERRY_HOME/uploads} (default {@code ~/.ferry}) so that those of a killed process get aborted.
     */
    @Override
    public ObjectStore open(Map<String, String> environment) throws IOException {
        String home = environment.get("FERRY_HOME");
        Path ferryHome = home != null && !home.isBlank() ? Path.of(home)
                : Path.of(environment.getOrDefault("HOME", System.getProperty("user.home")), ".ferry");
        S3Config config = S3Config.fromEnvironment(environment);
        return new S3Store(config, S3Store.MAX_SINGLE_COPY,
                new UploadJournal(ferryHome.resolve("uploads"), config.endpointText()),
                S3Config.parseSize(environment, "FERRY_S3_UPLOAD_CUTOFF", (int) S3Store.STREAMED_PUT_LIMIT), true);
    }

    /** A store with the given configuration; closing it releases its connections. */
    public static ObjectStore newStore(S3Config config) {
        return new S3Store(Objects.requireNonNull(config, "config is null"));
    }
}

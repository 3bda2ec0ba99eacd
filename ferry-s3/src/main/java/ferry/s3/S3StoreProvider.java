package ferry.s3;

import ferry.store.Location;
import ferry.store.ObjectStore;
import ferry.store.StoreProvider;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;

/** Serves {@code s3://} locations from any S3-compatible store; found by {@link java.util.ServiceLoader}. */
public final class S3StoreProvider implements StoreProvider {
    @Override
    public String scheme() {
        return Location.S3;
    }

    /** A store configured by {@link S3Config#fromEnvironment}. */
    @Override
    public ObjectStore open(Map<String, String> environment) throws IOException {
        return newStore(S3Config.fromEnvironment(environment));
    }

    /** A store with the given configuration; closing it releases its connections. */
    public static ObjectStore newStore(S3Config config) {
        return new S3Store(Objects.requireNonNull(config, "config is null"));
    }
}

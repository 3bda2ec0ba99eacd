package ferry.store;

import java.io.IOException;
import java.util.Map;

/**
 * Opens the store for one location scheme. Backends outside the core module (S3) register an implementation
 * through {@link java.util.ServiceLoader}.
 */
public interface StoreProvider {
    /** The scheme served, such as {@code s3}. */
    String scheme();

    /**
     * Opens a store configured from {@code environment} (the process environment, or a test's stand-in for it).
     */
    ObjectStore open(Map<String, String> environment) throws IOException;
}

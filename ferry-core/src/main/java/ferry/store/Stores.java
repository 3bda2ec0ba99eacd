package ferry.store;

import ferry.store.local.LocalStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * The stores of one process, one per scheme, opened on first use and closed together. {@code file} is always
 * served by {@link LocalStore}; other schemes come from {@link StoreProvider}s on the class path.
 */
public final class Stores implements AutoCloseable {
    private final Map<String, String> environment;
    private final Map<String, ObjectStore> open = new HashMap<>();

    private Stores(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    /** Stores configured from the given environment variables (normally {@link System#getenv()}). */
    public static Stores fromEnvironment(Map<String, String> environment) {
        return new Stores(Objects.requireNonNull(environment, "environment is null"));
    }

    /**
     * Serves {@code scheme} from {@code store} from now on (closed with the others): for embedding Ferry with a store
     * built by hand, and for tests.
     */
    public synchronized Stores with(String scheme, ObjectStore store) {
        open.put(Objects.requireNonNull(scheme, "scheme is null"), Objects.requireNonNull(store, "store is null"));
        return this;
    }

    /** The store that serves {@code location}, opening it on first use. */
    public synchronized ObjectStore forLocation(Location location) throws IOException {
        ObjectStore store = open.get(location.scheme());
        if (store == null) {
            store = openStore(location.scheme());
            open.put(location.scheme(), store);
        }
        return store;
    }

    private ObjectStore openStore(String scheme) throws IOException {
        if (scheme.equals(Location.FILE)) {
            return new LocalStore();
        }
        for (StoreProvider provider : ServiceLoader.load(StoreProvider.class)) {
            if (provider.scheme().equals(scheme)) {
                return provider.open(environment);
            }
        }
        throw new IllegalArgumentException("no store for scheme '" + scheme + "' is installed");
    }

    @Override
    public synchronized void close() throws IOException {
        List<IOException> failures = new ArrayList<>();
        for (ObjectStore store : open.values()) {
            try {
                store.close();
            } catch (IOException e) {
                failures.add(e);
            }
        }
        open.clear();
        if (!failures.isEmpty()) {
            IOException first = failures.getFirst();
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }
}

package ferry.testing;

import ferry.store.Location;
import ferry.store.ObjectStore;
import ferry.store.local.LocalStore;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The store contract, run against local files. */
class LocalStoreContractTest extends StoreContractTest {
    private final LocalStore store = new LocalStore();

    @TempDir
    Path folder;

    @Override
    protected ObjectStore store() {
        return store;
    }

    /** Files have no metadata to keep a checksum in; Ferry computes it when it reads them. */
    @Override
    protected boolean recordsChecksums() {
        return false;
    }

    @Override
    protected Location root() {
        return Location.of(folder).asDirectory();
    }
}

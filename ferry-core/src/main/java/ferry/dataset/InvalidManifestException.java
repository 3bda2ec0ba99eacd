package ferry.dataset;

import ferry.store.Location;
import ferry.store.StoreException;

/** A manifest that is there but cannot be read as the version it is stored as: damaged, foreign or misplaced. */
public final class InvalidManifestException extends StoreException {
    InvalidManifestException(Location location, String why) {
        super(location, "manifest " + location + " is not a valid Ferry manifest: " + why
                + ". Restore it from a backup or create a new dataset version.");
    }
}

package ferry.mount;

import ferry.store.Location;
import java.io.IOException;

/** The object is no longer the version that was listed: its bytes must not be mixed with the old ones. */
final class ObjectChangedException extends IOException {
    ObjectChangedException(Location location, String expectedEtag, String foundEtag) {
        super(location + " changed since it was listed (ETag " + expectedEtag + ", now " + foundEtag
                + "): reopen it after the metadata TTL, or mount a dataset version for data that never changes");
    }
}

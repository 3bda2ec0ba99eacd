package ferry.mount;

import ferry.store.Location;
import java.io.IOException;

/** The object is no longer the version that was listed: its bytes must not be mixed with the old ones. */
final class ObjectChangedException extends IOException {
    private final Location location;
    private final String expectedEtag;
    private final String foundEtag;

    ObjectChangedException(Location location, String expectedEtag, String foundEtag) {
        super(location + " changed since it was listed (ETag " + expectedEtag + ", now " + foundEtag
                + "): reopen it after the metadata TTL, or mount a dataset version for data that never changes");
        this.location = location;
        this.expectedEtag = expectedEtag;
        this.foundEtag = foundEtag;
    }

    /** The same failure told of a dataset version's object, which no wait or reopen brings back. */
    String inDatasetVersion() {
        return location + " changed in the store after the dataset version recorded it (ETag " + expectedEtag
                + ", now " + foundEtag + "): the version cannot be read whole any more; put the object back, or"
                + " create a new version of the dataset (ferry dataset create) and mount that";
    }
}

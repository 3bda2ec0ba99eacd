package ferry.store;

import java.io.IOException;
import java.util.List;

/** A lazy listing, in ascending key order, fetched page by page so that any number of objects fits in memory. */
public interface ObjectListing {
    boolean hasNext() throws IOException;

    ObjectInfo next() throws IOException;

    /**
     * The entries passed over so far as not objects, in key order; each is passed over by the time the listing has
     * moved on to a later key. Only a local folder has any.
     */
    default List<PassedOver> passedOver() {
        return List.of();
    }
}

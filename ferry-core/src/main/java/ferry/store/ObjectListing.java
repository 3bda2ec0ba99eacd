package ferry.store;

import java.io.IOException;

/** A lazy listing, in ascending key order, fetched page by page so that any number of objects fits in memory. */
public interface ObjectListing {
    boolean hasNext() throws IOException;

    ObjectInfo next() throws IOException;
}

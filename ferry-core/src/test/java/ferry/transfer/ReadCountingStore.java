package ferry.transfer;

import ferry.store.ForwardingObjectStore;
import ferry.store.Location;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A store that records each object it opens for reading: how a test tells that a run read no data. */
final class ReadCountingStore extends ForwardingObjectStore {
    private final List<Location> opened = new ArrayList<>();

    ReadCountingStore(ObjectStore delegate) {
        super(delegate);
    }

    /** The objects opened since the last call, in the order they were opened. */
    synchronized List<Location> takeOpened() {
        List<Location> taken = List.copyOf(opened);
        opened.clear();
        return taken;
    }

    private synchronized void opening(Location location) {
        opened.add(location);
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        opening(location);
        return super.openStream(location);
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        opening(location);
        return super.openStream(location, position, length);
    }
}

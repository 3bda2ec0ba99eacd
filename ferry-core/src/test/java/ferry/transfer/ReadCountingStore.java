package ferry.transfer;

import ferry.store.FolderListing;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** A store that records each object it opens for reading: how a test tells that a run read no data. */
final class ReadCountingStore implements ObjectStore {
    private final ObjectStore delegate;
    private final List<Location> opened = new ArrayList<>();

    ReadCountingStore(ObjectStore delegate) {
        this.delegate = delegate;
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
    public ObjectInfo stat(Location location) throws IOException {
        return delegate.stat(location);
    }

    @Override
    public ObjectListing list(Location prefix) throws IOException {
        return delegate.list(prefix);
    }

    @Override
    public FolderListing listFolder(Location folder) throws IOException {
        return delegate.listFolder(folder);
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        opening(location);
        return delegate.openStream(location);
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        opening(location);
        return delegate.openStream(location, position, length);
    }

    @Override
    public ObjectOutput create(Location location, WriteOptions options) throws IOException {
        return delegate.create(location, options);
    }

    @Override
    public ObjectOutput createOrOverwrite(Location location, WriteOptions options) throws IOException {
        return delegate.createOrOverwrite(location, options);
    }

    @Override
    public void delete(Location location) throws IOException {
        delegate.delete(location);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}

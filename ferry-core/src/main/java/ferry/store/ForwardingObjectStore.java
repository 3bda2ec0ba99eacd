package ferry.store;

import java.io.IOException;

/**
 * A store that passes every call to another: a wrapper that counts or holds some calls overrides only those. Closing
 * it closes the wrapped store; a wrapper of a shared store overrides {@link #close}.
 */
public abstract class ForwardingObjectStore implements ObjectStore {
    private final ObjectStore delegate;

    protected ForwardingObjectStore(ObjectStore delegate) {
        this.delegate = delegate;
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
        return delegate.openStream(location);
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
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

package ferry.mount;

import ferry.store.FolderListing;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A store that records every ranged read and listing it forwards, and can hold or fail reads on demand. */
final class CountingStore implements ObjectStore {
    private final ObjectStore delegate;
    final List<Long> readPositions = new CopyOnWriteArrayList<>();
    final AtomicInteger listings = new AtomicInteger();
    final AtomicInteger stats = new AtomicInteger();
    final AtomicInteger failNextReads = new AtomicInteger();
    volatile CountDownLatch gate;

    CountingStore(ObjectStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public ObjectInfo stat(Location location) throws IOException {
        stats.incrementAndGet();
        return delegate.stat(location);
    }

    @Override
    public ObjectListing list(Location prefix) throws IOException {
        listings.incrementAndGet();
        return delegate.list(prefix);
    }

    @Override
    public FolderListing listFolder(Location folder) throws IOException {
        listings.incrementAndGet();
        return delegate.listFolder(folder);
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        return openStream(location, 0, Long.MAX_VALUE);
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        readPositions.add(position);
        CountDownLatch waitFor = gate;
        if (waitFor != null) {
            try {
                waitFor.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException();
            }
        }
        if (failNextReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new StoreException(location, "injected failure reading " + location);
        }
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

package ferry.mount;

import ferry.store.FolderListing;
import ferry.store.ForwardingObjectStore;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A store that records every ranged read and listing it forwards, and can hold or fail reads on demand: {@link #gate}
 * holds a read before its response, {@link #midway} after the first {@link #heldAfter} bytes of it.
 */
final class CountingStore extends ForwardingObjectStore {
    final List<Long> readPositions = new CopyOnWriteArrayList<>();
    final AtomicInteger listings = new AtomicInteger();
    final AtomicInteger stats = new AtomicInteger();
    final AtomicInteger failNextReads = new AtomicInteger();
    volatile CountDownLatch gate;
    volatile CountDownLatch midway;
    volatile int heldAfter;
    /** Thrown, once, by the next read at or after {@link #errorFrom}. */
    final AtomicReference<Error> errorOnNextRead = new AtomicReference<>();
    volatile long errorFrom;
    /** Holds folder listings until it opens; then the next one throws {@link #errorOnNextListing}, if set. */
    volatile CountDownLatch listingGate;
    final AtomicReference<Error> errorOnNextListing = new AtomicReference<>();

    CountingStore(ObjectStore delegate) {
        super(delegate);
    }

    @Override
    public ObjectInfo stat(Location location) throws IOException {
        stats.incrementAndGet();
        return super.stat(location);
    }

    @Override
    public ObjectListing list(Location prefix) throws IOException {
        listings.incrementAndGet();
        return super.list(prefix);
    }

    @Override
    public FolderListing listFolder(Location folder) throws IOException {
        listings.incrementAndGet();
        await(listingGate);
        Error error = errorOnNextListing.getAndSet(null);
        if (error != null) {
            throw error;
        }
        return super.listFolder(folder);
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        return openStream(location, 0, Long.MAX_VALUE);
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        readPositions.add(position);
        await(gate);
        if (position >= errorFrom && errorOnNextRead.get() != null) {
            Error error = errorOnNextRead.getAndSet(null);
            if (error != null) {
                throw error;
            }
        }
        if (failNextReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new StoreException(location, "injected failure reading " + location);
        }
        ObjectInputStream in = super.openStream(location, position, length);
        CountDownLatch hold = midway;
        return hold == null ? in : new HeldStream(in, heldAfter, hold);
    }

    /** Waits for a latch, if there is one. */
    private static void await(CountDownLatch latch) throws java.io.InterruptedIOException {
        if (latch == null) {
            return;
        }
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException();
        }
    }

    /** A response whose bytes after the first {@code heldAfter} wait for a latch. */
    private static final class HeldStream extends ObjectInputStream {
        private final ObjectInputStream in;
        private final int heldAfter;
        private final CountDownLatch hold;
        private long delivered;

        HeldStream(ObjectInputStream in, int heldAfter, CountDownLatch hold) {
            this.in = in;
            this.heldAfter = heldAfter;
            this.hold = hold;
        }

        @Override
        public ObjectInfo info() throws IOException {
            return in.info();
        }

        @Override
        public int read() throws IOException {
            allowed(1);
            int b = in.read();
            delivered += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, allowed(len));
            delivered += Math.max(n, 0);
            return n;
        }

        /** How many of {@code len} bytes may be read now, after waiting for the latch once they are all delivered. */
        private int allowed(int len) throws IOException {
            if (delivered < heldAfter) {
                return (int) Math.min(len, heldAfter - delivered);
            }
            await(hold);
            return len;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}

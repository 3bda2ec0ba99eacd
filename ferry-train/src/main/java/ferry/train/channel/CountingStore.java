package ferry.train.channel;

import ferry.store.ForwardingObjectStore;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectStore;
import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;

/**
 * A store that counts the bytes read through it, so that a FastFile channel can report how much it fetched (what
 * the chunk cache did not already hold). Everything else passes straight through; closing it leaves the wrapped
 * store open, as it belongs to the job's {@code Stores}.
 */
final class CountingStore extends ForwardingObjectStore {
    private final LongAdder bytesRead = new LongAdder();

    CountingStore(ObjectStore store) {
        super(store);
    }

    long bytesRead() {
        return bytesRead.sum();
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        return new Counted(super.openStream(location));
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        return new Counted(super.openStream(location, position, length));
    }

    @Override
    public void close() {
        // the wrapped store is shared: its owner closes it
    }

    private final class Counted extends ObjectInputStream {
        private final ObjectInputStream in;

        Counted(ObjectInputStream in) {
            this.in = in;
        }

        @Override
        public ObjectInfo info() throws IOException {
            return in.info();
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                bytesRead.increment();
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                bytesRead.add(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            return in.skip(n);
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}

package ferry.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Objects in memory, under keys no file system could hold ({@code a/../b}): for tests of what Ferry does with
 * such keys when it materializes them. Serves every location of one scheme, keyed by its full text.
 */
public final class MemoryStore implements ObjectStore {
    private final ConcurrentSkipListMap<String, byte[]> objects = new ConcurrentSkipListMap<>();
    private volatile BeforeRead beforeRead = location -> { };

    /** Runs before a read opens: a test counts reads, or holds one back. */
    public interface BeforeRead {
        void run(Location location) throws InterruptedException;
    }

    public void beforeRead(BeforeRead hook) {
        this.beforeRead = hook;
    }

    public void put(Location location, byte[] bytes) {
        objects.put(location.toString(), bytes.clone());
    }

    @Override
    public ObjectInfo stat(Location location) throws IOException {
        byte[] bytes = objects.get(location.toString());
        if (bytes == null) {
            throw new ObjectNotFoundException(location);
        }
        return info(location, bytes);
    }

    private static ObjectInfo info(Location location, byte[] bytes) {
        return new ObjectInfo(location, bytes.length, Instant.EPOCH, Integer.toHexString(Arrays.hashCode(bytes)), null);
    }

    @Override
    public ObjectListing list(Location prefix) {
        Iterator<String> keys = objects.subMap(prefix.toString(), prefix + "\uffff").keySet().iterator();
        return new ObjectListing() {
            @Override
            public boolean hasNext() {
                return keys.hasNext();
            }

            @Override
            public ObjectInfo next() throws IOException {
                return stat(Location.of(keys.next()));
            }
        };
    }

    @Override
    public FolderListing listFolder(Location folder) throws IOException {
        java.util.List<ObjectInfo> files = new java.util.ArrayList<>();
        java.util.SortedSet<String> folders = new java.util.TreeSet<>();
        ObjectListing all = list(folder);
        while (all.hasNext()) {
            ObjectInfo info = all.next();
            String key = folder.relativize(info.location());
            int slash = key.indexOf('/');
            if (slash < 0) {
                files.add(info);
            } else {
                folders.add(key.substring(0, slash));
            }
        }
        return new FolderListing(files, java.util.List.copyOf(folders));
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        return openStream(location, 0, Long.MAX_VALUE);
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        try {
            beforeRead.run(location);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted before reading " + location);
        }
        ObjectInfo info = stat(location);
        byte[] bytes = objects.get(location.toString());
        int from = (int) Math.min(position, bytes.length);
        int to = (int) Math.min(bytes.length, from + Math.min(length, Integer.MAX_VALUE));
        java.io.ByteArrayInputStream in = new java.io.ByteArrayInputStream(bytes, from, to - from);
        return new ObjectInputStream() {
            @Override
            public ObjectInfo info() {
                return info;
            }

            @Override
            public int read() {
                return in.read();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return in.read(b, off, len);
            }
        };
    }

    @Override
    public ObjectOutput create(Location location, WriteOptions options) {
        return output(location, false);
    }

    @Override
    public ObjectOutput createOrOverwrite(Location location, WriteOptions options) {
        return output(location, true);
    }

    private ObjectOutput output(Location location, boolean overwrite) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        return new ObjectOutput() {
            @Override
            public void write(int b) {
                buffer.write(b);
            }

            @Override
            public ObjectInfo commit() throws IOException {
                byte[] bytes = buffer.toByteArray();
                if (overwrite) {
                    objects.put(location.toString(), bytes);
                } else if (objects.putIfAbsent(location.toString(), bytes) != null) {
                    throw new ObjectExistsException(location);
                }
                return info(location, bytes);
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public void delete(Location location) {
        objects.remove(location.toString());
    }

    @Override
    public void close() {}
}

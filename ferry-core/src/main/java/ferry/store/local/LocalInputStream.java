package ferry.store.local;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;

/** Reads a range of a file through its channel, positionally, so the range needs no seek state of its own. */
final class LocalInputStream extends ObjectInputStream {
    private final Location location;
    private final FileChannel channel;
    private long position;
    private long remaining;
    private ObjectInfo info;

    LocalInputStream(Location location, FileChannel channel, long position, long length) {
        this.location = location;
        this.channel = channel;
        this.position = position;
        this.remaining = length;
    }

    @Override
    public ObjectInfo info() throws IOException {
        if (info == null) {
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(location.toPath(), BasicFileAttributes.class);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new ObjectNotFoundException(location);
            }
            if (attributes.isDirectory()) {
                throw new ObjectNotFoundException(location); // a folder is a prefix of keys, as on S3, not an object
            }
            info = LocalStore.info(location, attributes);
        }
        return info;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (remaining <= 0) {
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        int n;
        try {
            n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, remaining)), position);
        } catch (IOException e) {
            if (Files.isDirectory(location.toPath())) { // opened fine: Linux refuses only the read of a folder
                throw new ObjectNotFoundException(location);
            }
            throw LocalStore.failure(location, "read", e);
        }
        if (n < 0) {
            remaining = 0;
            return -1;
        }
        position += n;
        remaining -= n;
        return n;
    }

    @Override
    public long skip(long n) {
        long skipped = Math.max(0, Math.min(n, remaining));
        position += skipped;
        remaining -= skipped;
        return skipped;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

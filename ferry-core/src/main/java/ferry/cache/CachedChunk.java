package ferry.cache;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * What this process knows of one chunk file. Fields are written without a lock by the threads that read the chunk;
 * each is a hint that a race can only make slightly stale (a recency stamp, whether it was checked), never wrong bytes.
 */
final class CachedChunk {
    private static final VarHandle CHANNEL;
    private static final VarHandle REMOVED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            CHANNEL = lookup.findVarHandle(CachedChunk.class, "channel", FileChannel.class);
            REMOVED = lookup.findVarHandle(CachedChunk.class, "removed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final ChunkKey key;
    /** Names the chunk's file from its key when needed, so a large index holds no path per chunk. */
    private final CacheLayout layout;
    /** Data bytes; known once checked against the trailer, or from the put that wrote it. */
    volatile int length;
    /** The CRC32C of the data, known when {@link #verified} is (set before it). */
    volatile int crc32c;
    volatile boolean verified;
    /** Wall-clock nanoseconds of the last use, comparable with file modification times. */
    volatile long lastUsed;
    /** Whether this process has set the file's modification time, and at which ticker time. */
    volatile boolean touched;
    volatile long touchedAt;
    /** Read since the channel pool last passed it: it gets a second chance to stay open. */
    volatile boolean referenced;

    @SuppressWarnings("unused") // Through CHANNEL.
    private volatile FileChannel channel;
    @SuppressWarnings("unused") // Through REMOVED.
    private volatile boolean removed;

    private CachedChunk(ChunkKey key, CacheLayout layout, int length, int crc32c, boolean verified, long lastUsed) {
        this.key = key;
        this.layout = layout;
        this.length = length;
        this.crc32c = crc32c;
        this.verified = verified;
        this.lastUsed = lastUsed;
    }

    /** A chunk this process just wrote: its bytes came from the caller, so there is nothing to check. */
    static CachedChunk written(ChunkKey key, CacheLayout layout, int length, int crc32c, long stamp, long tick) {
        CachedChunk chunk = new CachedChunk(key, layout, length, crc32c, true, stamp);
        chunk.touched = true;
        chunk.touchedAt = tick;
        return chunk;
    }

    /** A chunk file found on disk, written by an earlier or another process: checked on first use. */
    static CachedChunk found(ChunkKey key, CacheLayout layout, long modifiedNanos) {
        return new CachedChunk(key, layout, -1, 0, false, modifiedNanos);
    }

    Path file() {
        return layout.stemOf(key.objectId()).chunk(key.index());
    }

    FileChannel channel() {
        return (FileChannel) CHANNEL.getVolatile(this);
    }

    /** Installs a freshly opened channel and returns the one in place: this one, or one another thread won with. */
    FileChannel install(FileChannel opened) {
        FileChannel witness = (FileChannel) CHANNEL.compareAndExchange(this, null, opened);
        return witness == null ? opened : witness;
    }

    /** Closes the channel if it is still the given one (a reader that saw it fail must not close a newer one). */
    void closeChannel(FileChannel expected) {
        if (expected != null && CHANNEL.compareAndSet(this, expected, null)) {
            closeQuietly(expected);
        }
    }

    void closeChannel() {
        closeQuietly((FileChannel) CHANNEL.getAndSet(this, null));
    }

    /** Marks the chunk gone from the cache and closes its channel; true only for the caller that did it first. */
    boolean remove() {
        boolean first = REMOVED.compareAndSet(this, false, true);
        closeChannel();
        return first;
    }

    boolean isRemoved() {
        return (boolean) REMOVED.getVolatile(this);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // A read-only channel has nothing to flush; the descriptor is released either way.
            }
        }
    }
}

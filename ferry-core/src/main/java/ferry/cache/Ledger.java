package ferry.cache;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * The small file every cache on one folder shares, in this process and others: the bytes the folder holds against
 * the budget, and the counters each process has flushed. Every change happens under a lock on the file, so the budget
 * holds across processes and counters add up instead of overwriting each other.
 *
 * <p>The record is rewritten in place and carries a CRC32C: if a crash tears it, the next reader starts the counters
 * again and has the bytes in use counted afresh, which is all a lost record costs.
 */
final class Ledger implements Closeable {
    private static final System.Logger LOG = System.getLogger(Ledger.class.getName());
    /** "FERRYLG2": the bytes in use count disk blocks. */
    private static final long MAGIC = 0x46455252_594C4732L;
    /** "FERRYLG1": the bytes in use counted file sizes, too little to keep to the budget, so they are counted again. */
    private static final long MAGIC_FILE_SIZES = 0x46455252_594C4731L;
    static final long UNKNOWN = -1;
    private static final int RECORD_BYTES = 8 + 8 + Counter.COUNT * 8 + 8;

    /** Counters kept per process and summed in the ledger. */
    enum Counter {
        HITS, MISSES, EVICTIONS, CORRUPT, STORE_FAILURES;

        static final int COUNT = values().length;
    }

    /** The ledger's content while the lock is held; actions change it and the ledger writes it back. */
    static final class State {
        long usedBytes = UNKNOWN;
        final long[] counters = new long[Counter.COUNT];

        void addUsed(long delta) {
            if (usedBytes != UNKNOWN) {
                usedBytes = Math.max(0, usedBytes + delta);
            }
        }
    }

    interface Action<T> {
        T run(State state) throws IOException;
    }

    /**
     * One channel and one in-process lock per ledger file in this JVM. File locks belong to the process, and closing
     * any channel on a file drops them all, so two caches on one folder in one JVM must share both.
     */
    private static final class Shared {
        final Path file;
        final ReentrantLock lock = new ReentrantLock();
        /** Replaced if an interrupt closed it (file channels close when a thread blocked on them is interrupted). */
        FileChannel channel;
        int users;

        Shared(Path file) throws IOException {
            this.file = file;
            this.channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }

        /** The open channel; called with {@link #lock} held. */
        FileChannel channel() throws IOException {
            if (!channel.isOpen()) {
                channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            return channel;
        }
    }

    private static final Map<Path, Shared> OPEN = new HashMap<>();

    private final Path file;
    private final Path key;
    private final Shared shared;
    private final ByteBuffer buffer = ByteBuffer.allocate(RECORD_BYTES);
    private boolean closed;

    private Ledger(Path file, Path key, Shared shared) {
        this.file = file;
        this.key = key;
        this.shared = shared;
    }

    static Ledger open(Path file) throws IOException {
        synchronized (OPEN) {
            try {
                Files.createFile(file);
            } catch (FileAlreadyExistsException e) {
                // Another cache made it; creating fails before opening, so no lock of ours is dropped.
            }
            Path key = file.toRealPath();
            Shared shared = OPEN.get(key);
            if (shared == null) {
                shared = new Shared(file);
                OPEN.put(key, shared);
            }
            shared.users++;
            return new Ledger(file, key, shared);
        }
    }

    /**
     * Runs an action holding the folder's lock, and writes back the state it leaves (marked unknown if it failed).
     * A pending interrupt is set aside meanwhile: it would close the channel this JVM's caches share.
     */
    <T> T locked(Action<T> action) throws IOException {
        boolean interrupted = Thread.interrupted();
        shared.lock.lock();
        try {
            if (closed) {
                throw new IOException("the chunk cache using " + file + " is closed");
            }
            FileChannel channel = shared.channel();
            try (FileLock ignored = lock(channel)) {
                State state = read(channel);
                T result;
                try {
                    result = action.run(state);
                } catch (IOException | RuntimeException e) {
                    // The action may have deleted or created files it did not get to count.
                    state.usedBytes = UNKNOWN;
                    try {
                        write(channel, state);
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                    throw e;
                }
                write(channel, state);
                return result;
            }
        } finally {
            shared.lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private FileLock lock(FileChannel channel) throws IOException {
        try {
            return channel.lock();
        } catch (IOException e) {
            throw new IOException("cannot lock cache ledger " + file + ": " + e.getMessage() + "; processes sharing "
                    + "a cache folder lock this file, so put the cache on a local file system", e);
        }
    }

    private State read(FileChannel channel) throws IOException {
        State state = new State();
        buffer.clear();
        while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) >= 0) {
            // Read the whole record, or as much as there is.
        }
        buffer.flip();
        if (buffer.remaining() < RECORD_BYTES) {
            return state; // A new ledger.
        }
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(0, RECORD_BYTES - 8));
        long magic = buffer.getLong(0);
        if ((magic != MAGIC && magic != MAGIC_FILE_SIZES) || buffer.getLong(RECORD_BYTES - 8) != crc.getValue()) {
            LOG.log(System.Logger.Level.WARNING, "cache ledger " + file + " is damaged (a crash while writing it?); "
                    + "counting the cache's bytes again and starting its hit and miss counters from zero");
            return state;
        }
        buffer.position(8);
        long used = buffer.getLong();
        state.usedBytes = magic == MAGIC ? used : UNKNOWN;
        for (int i = 0; i < Counter.COUNT; i++) {
            state.counters[i] = buffer.getLong();
        }
        return state;
    }

    private void write(FileChannel channel, State state) throws IOException {
        buffer.clear();
        buffer.putLong(MAGIC).putLong(state.usedBytes);
        for (long counter : state.counters) {
            buffer.putLong(counter);
        }
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(0, RECORD_BYTES - 8));
        buffer.putLong(crc.getValue()).flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer, buffer.position());
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (OPEN) {
            shared.lock.lock();
            try {
                if (closed) {
                    return;
                }
                closed = true;
                if (--shared.users == 0) {
                    OPEN.remove(key);
                    shared.channel.close();
                }
            } finally {
                shared.lock.unlock();
            }
        }
    }
}

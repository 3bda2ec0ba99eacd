package ferry.store.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Makes small files durable together: the commits waiting at one time share one {@code syncfs(2)} of their file
 * system, instead of one {@code fdatasync(2)} each. Every such flush also flushes the disk's write cache, which is
 * what made 20,000 small downloads spend a quarter of their time flushing; grouped, they spend under a tenth.
 *
 * <p>A commit waits for a flush that <em>started</em> after its data was written, so the data is on disk when the
 * wait ends, exactly as after its own {@code fdatasync}. The price: a flush also writes out what other programs left
 * unwritten on that file system. The kernel reports a failed write-back to one flush of the file system only, so a
 * writer also asks its own file ({@link LocalOutput}). Linux only (it needs {@link Libc}): elsewhere each file is
 * flushed on its own.
 */
final class GroupFlush {
    private static final Libc LIBC = Libc.get();
    private static final Map<Object, GroupFlush> BY_DEVICE = new ConcurrentHashMap<>();

    /** Returns once everything written to files in {@code directory} before this call is on disk. */
    static void flush(Path directory) throws IOException {
        Object device = Files.getAttribute(directory, "unix:dev");
        BY_DEVICE.computeIfAbsent(device, d -> new GroupFlush(GroupFlush::syncfs)).await(directory);
    }

    /** Flushes the file system that holds a folder (any folder on it will do, so each caller names its own). */
    interface FileSystemFlush {
        void flush(Path directory) throws IOException;
    }

    private final FileSystemFlush action;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition flushed = lock.newCondition();
    private long started;
    private long finished;
    private boolean flushing;
    private long lastFailed; // the last flush that failed, and why
    private IOException failure;

    GroupFlush(FileSystemFlush action) {
        this.action = action;
    }

    /** Waits for a flush that starts after this call, running it when none is running. */
    void await(Path directory) throws IOException {
        lock.lock();
        try {
            // A flush running now may have started before our data was written: we need the next one.
            long needed = started + 1;
            while (finished < needed) {
                if (flushing) {
                    flushed.awaitUninterruptibly();
                    continue;
                }
                flushing = true;
                long flush = ++started;
                IOException error = null;
                lock.unlock();
                try {
                    // On a platform thread: a native call would hold a virtual thread's carrier for the whole flush.
                    CompletableFuture.runAsync(() -> run(directory), LocalOutput.FLUSHER).join();
                } catch (CompletionException e) {
                    error = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                } finally {
                    lock.lock();
                }
                flushing = false;
                finished = flush;
                if (error != null) {
                    lastFailed = flush;
                    failure = error;
                }
                flushed.signalAll();
            }
            if (lastFailed >= needed) {
                throw new IOException("could not flush the file system of " + directory + " to disk: "
                        + failure.getMessage(), failure);
            }
        } finally {
            lock.unlock();
        }
    }

    private static void syncfs(Path directory) throws IOException {
        int fd = LIBC.open(directory, true);
        try {
            LIBC.syncfs(fd);
        } finally {
            LIBC.close(fd);
        }
    }

    private void run(Path directory) {
        try {
            action.flush(directory);
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }
}

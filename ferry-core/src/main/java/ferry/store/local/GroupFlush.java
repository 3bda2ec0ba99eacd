package ferry.store.local;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
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
 * unwritten on that file system. Linux only: elsewhere {@link #available()} is false and each file is flushed on
 * its own.
 */
final class GroupFlush {
    private static final Libc LIBC = Libc.load();
    private static final Map<Object, GroupFlush> BY_DEVICE = new ConcurrentHashMap<>();

    /** Whether this system can flush a whole file system at once. */
    static boolean available() {
        return LIBC != null;
    }

    /** Returns once everything written to files in {@code directory} before this call is on disk. */
    static void flush(Path directory) throws IOException {
        Object device = Files.getAttribute(directory, "unix:dev");
        BY_DEVICE.computeIfAbsent(device, d -> new GroupFlush(LIBC::syncfs)).await(directory);
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

    private void run(Path directory) {
        try {
            action.flush(directory);
        } catch (IOException e) {
            throw new CompletionException(e);
        }
    }

    /** The three libc calls this needs, through the foreign function interface. */
    private record Libc(MethodHandle open, MethodHandle syncfs, MethodHandle close, MethodHandle strerror) {
        private static final int O_RDONLY = 0;
        private static final int O_DIRECTORY = 0200000;
        private static final int O_CLOEXEC = 02000000;
        private static final StructLayout ERRNO = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO_VALUE = ERRNO.varHandle(
                MemoryLayout.PathElement.groupElement("errno"));

        /** The calls, or null where there are none (not Linux) or native access is denied to Ferry. */
        static Libc load() {
            if (!System.getProperty("os.name").equals("Linux")) {
                return null;
            }
            try {
                return link();
            } catch (RuntimeException e) {
                return null;
            }
        }

        private static Libc link() {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            var errno = Linker.Option.captureCallState("errno");
            return libc.find("syncfs").map(syncfs -> new Libc(
                    linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                            errno, Linker.Option.firstVariadicArg(2)),
                    linker.downcallHandle(syncfs, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                            errno),
                    linker.downcallHandle(libc.find("close").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(libc.find("strerror").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT))))
                    .orElse(null);
        }

        void syncfs(Path directory) throws IOException {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(ERRNO);
                int fd = (int) open.invokeExact(state, arena.allocateFrom(directory.toString()),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
                if (fd < 0) {
                    throw new IOException("open: " + error(state));
                }
                try {
                    if ((int) syncfs.invokeExact(state, fd) != 0) {
                        throw new IOException("syncfs: " + error(state));
                    }
                } finally {
                    int ignored = (int) close.invokeExact(fd);
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        private String error(MemorySegment state) throws Throwable {
            int errno = (int) ERRNO_VALUE.get(state, 0L);
            MemorySegment message = (MemorySegment) strerror.invokeExact(errno);
            return message.reinterpret(256).getString(0);
        }
    }
}

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
import java.nio.file.Path;

/**
 * The Linux calls that Java does not offer and durable local writes need: {@code syncfs(2)}, and
 * {@code sync_file_range(2)} on a descriptor of Ferry's own, through the foreign function interface.
 */
final class Libc {
    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_CLOEXEC = 02000000;
    private static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
    private static final int SYNC_FILE_RANGE_WAIT_AFTER = 4;
    private static final StructLayout ERRNO = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE = ERRNO.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Libc INSTANCE = load();

    private final MethodHandle open;
    private final MethodHandle close;
    private final MethodHandle syncfs;
    private final MethodHandle syncFileRange;
    private final MethodHandle strerror;

    private Libc(MethodHandle open, MethodHandle close, MethodHandle syncfs, MethodHandle syncFileRange,
            MethodHandle strerror) {
        this.open = open;
        this.close = close;
        this.syncfs = syncfs;
        this.syncFileRange = syncFileRange;
        this.strerror = strerror;
    }

    /** The calls, or null where there are none (not Linux) or native access is denied to Ferry. */
    static Libc get() {
        return INSTANCE;
    }

    private static Libc load() {
        if (!System.getProperty("os.name").equals("Linux")) {
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            var errno = Linker.Option.captureCallState("errno");
            var syncfs = libc.find("syncfs");
            var syncFileRange = libc.find("sync_file_range");
            if (syncfs.isEmpty() || syncFileRange.isEmpty()) {
                return null;
            }
            return new Libc(
                    linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                            errno, Linker.Option.firstVariadicArg(2)),
                    linker.downcallHandle(libc.find("close").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(syncfs.get(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno),
                    linker.downcallHandle(syncFileRange.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
                            errno),
                    linker.downcallHandle(libc.find("strerror").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT)));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Opens a folder, or a file, for reading only. */
    int open(Path path, boolean folder) throws IOException {
        int flags = O_RDONLY | O_CLOEXEC | (folder ? O_DIRECTORY : 0);
        return call("open", (arena, state) ->
                (int) open.invokeExact(state, arena.allocateFrom(path.toString()), flags, 0));
    }

    void close(int fd) {
        try {
            int ignored = (int) close.invokeExact(fd);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Flushes the whole file system that holds the open folder {@code fd}. */
    void syncfs(int fd) throws IOException {
        call("syncfs", (arena, state) -> (int) syncfs.invokeExact(state, fd));
    }

    /**
     * Waits for the file's write-back in progress and reports any write-back error of the file that this descriptor
     * has not reported yet. Writes nothing itself, and (unlike {@code fdatasync}) flushes no disk cache.
     */
    void awaitWriteBack(int fd) throws IOException {
        int flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
        call("write-back", (arena, state) -> (int) syncFileRange.invokeExact(state, fd, 0L, 0L, flags));
    }

    /** A call that records errno in {@code state}. */
    private interface Call {
        int run(Arena arena, MemorySegment state) throws Throwable;
    }

    /** Runs a call; a negative result fails, named, with the kernel's reason. */
    private int call(String name, Call call) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO);
            int result = call.run(arena, state);
            if (result < 0) {
                throw new IOException(name + ": " + error(state));
            }
            return result;
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

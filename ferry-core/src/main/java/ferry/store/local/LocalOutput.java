package ferry.store.local;

import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectInfo;
import ferry.store.ObjectOutput;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.CRC32C;

/**
 * Writes to a temporary file beside the target; {@link #commit()} flushes it to disk, moves it into place and flushes
 * the folder, so that a file reported written is on disk under its name. A large
 * file is flushed in the background while it is written, so that the flush at commit finds little left to write:
 * flushing a whole gibibyte at the end took longer than the last seconds of its download. Small files committed at
 * the same time share one flush of their file system ({@link GroupFlush}).
 *
 * <p>Such a flush reports a failed write-back to the first caller to ask, and any later flush of the file system
 * finds nothing wrong; so each file also keeps a second descriptor, opened before its first write, through which
 * the kernel reports the file's own write-back errors however many others were told first.
 */
final class LocalOutput extends ObjectOutput {
    /** Bytes written since the last flush that start another one in the background. */
    static final long FLUSH_EVERY = 16L << 20;

    private static final Libc LIBC = Libc.get();
    /** Closes the second descriptor of an output dropped without being closed. */
    private static final Cleaner CLEANER = Cleaner.create(Thread.ofPlatform().daemon().name("ferry-output-cleaner")
            .factory());

    /** Flushes block in the kernel for as long as the disk takes: platform threads, not a virtual thread's carrier. */
    static final ExecutorService FLUSHER = Executors.newCachedThreadPool(
            Thread.ofPlatform().daemon().name("ferry-flush-", 0).factory());

    private final Location location;
    private final WriteOptions options;
    private final boolean overwrite;
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    /** The second descriptor (see above), or -1 where there is none: then the file is flushed on its own. */
    private int writeBackWatch = -1;
    private Cleaner.Cleanable watchCloser;
    private final CRC32C crc = new CRC32C();
    private long unflushed;
    private boolean flushedAhead;
    /** Whether the commit flushes with others ({@link GroupFlush}) rather than on its own. */
    private boolean sharesFlush;
    /** The background flush's failure, reported by the commit; written by the flusher before its future completes. */
    private volatile IOException flushFailure;
    private CompletableFuture<Void> flushing = CompletableFuture.completedFuture(null);
    private boolean done;

    LocalOutput(Location location, WriteOptions options, boolean overwrite) throws IOException {
        if (location.isDirectory()) {
            throw new IllegalArgumentException("cannot write an object at a folder location: " + location);
        }
        this.location = location;
        this.options = options;
        this.overwrite = overwrite;
        this.target = location.toPath();
        this.temp = LocalStore.tempFor(target);
        try {
            if (!Files.isDirectory(target.getParent())) { // usually there: skip createDirectories' exception
                Files.createDirectories(target.getParent());
            }
            this.channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            // "already exists" or "Not a directory", about a folder that is not there, would not say what is wrong
            Path file = FileErrors.fileInTheWay(target.getParent());
            throw LocalStore.failure(location, "write",
                    file == null ? e : new FileSystemException(file.toString(), null, "is a file, not a folder"));
        }
        try {
            OpenTemps.opened(temp);
        } catch (IOException e) {
            channel.close();
            throw LocalStore.failure(location, "write", e);
        }
        // Only for a file that may end in a shared flush: one known to be large flushes itself.
        if (LIBC != null && options.sizeHint() < FLUSH_EVERY) {
            try {
                int fd = LIBC.open(temp, false);
                writeBackWatch = fd;
                watchCloser = CLEANER.register(this, () -> LIBC.close(fd));
            } catch (IOException e) {
                // a file its owner may not read (an odd umask): flushed on its own instead
            }
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (done) {
            throw new IOException("output for " + location + " is already closed");
        }
        crc.update(b, off, len);
        ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            throw LocalStore.failure(location, "write", e);
        }
        unflushed += len;
        if (unflushed >= FLUSH_EVERY && flushing.isDone()) {
            unflushed = 0;
            flushedAhead = true;
            flushing = CompletableFuture.runAsync(this::flushAhead, FLUSHER);
        }
    }

    /**
     * A flush ahead of the commit. Its failure is kept for the commit to report: Linux reports a failed write-back
     * once per open file, so the commit's own flush of the same channel would find nothing wrong.
     */
    private void flushAhead() {
        try {
            channel.force(false);
        } catch (IOException e) {
            flushFailure = e;
        } catch (RuntimeException e) {
            flushFailure = new IOException(e);
        }
    }

    @Override
    public ObjectInfo commit() throws IOException {
        if (done) {
            throw new IOException("output for " + location + " is already closed");
        }
        String actual = Crc32c.hex(crc.getValue());
        try {
            if (options.crc32c() != null && !options.crc32c().equals(actual)) {
                throw new ChecksumMismatchException(location, "CRC32C", options.crc32c(), actual);
            }
            try {
                // Flush the data before the rename makes it visible, so a power cut cannot publish a hole. A large
                // file has little left to flush and flushes it alone; small ones share a flush of the file system.
                flushing.join();
                if (flushFailure != null) {
                    throw flushFailure;
                }
                sharesFlush = !flushedAhead && writeBackWatch >= 0;
                if (!sharesFlush) {
                    channel.force(false);
                } else {
                    GroupFlush.flush(temp.getParent());
                    LIBC.awaitWriteBack(writeBackWatch);
                }
            } catch (IOException e) {
                throw LocalStore.failure(location, "write", e);
            }
            channel.close();
            closeWatch();
            try {
                if (overwrite) {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    // A hard link fails atomically when the name is taken, unlike a check followed by a rename.
                    Files.createLink(target, temp);
                    Files.delete(temp);
                }
            } catch (FileAlreadyExistsException e) {
                throw new ObjectExistsException(location);
            } catch (IOException e) {
                // The rename's error names the temporary file, which the user never made: name what is in the way.
                throw LocalStore.failure(location, "write", Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)
                        ? new FileSystemException(target.toString(), null, "is a folder") : e);
            }
            OpenTemps.closed(temp);
            done = true;
            try {
                // The new name on disk too: else a power cut can bring back the old file, or none, once reported.
                if (sharesFlush) {
                    GroupFlush.flush(target.getParent());
                } else {
                    DurableFiles.flushFolder(target.getParent());
                }
            } catch (IOException e) {
                throw LocalStore.failure(location, "write", e);
            }
            BasicFileAttributes attributes = Files.readAttributes(target, BasicFileAttributes.class);
            ObjectInfo info = LocalStore.info(location, attributes);
            return new ObjectInfo(location, info.size(), info.lastModified(), info.etag(), actual);
        } finally {
            if (!done) {
                abandon();
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (!done) {
            abandon();
        }
    }

    private void abandon() throws IOException {
        done = true;
        flushing.join();
        channel.close();
        closeWatch();
        Files.deleteIfExists(temp);
        OpenTemps.closed(temp);
    }

    private void closeWatch() {
        if (watchCloser != null) {
            watchCloser.clean(); // closes the descriptor once, here or when the output is dropped unclosed
            watchCloser = null;
            writeBackWatch = -1;
        }
    }
}

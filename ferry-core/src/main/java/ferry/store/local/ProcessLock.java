package ferry.store.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Keeps two holders of one lock file from running at once, across processes (two runs of one sync, two agents on one
 * Ferry home): an OS file lock, released by the kernel if the holder dies, so a crash never leaves a stale lock
 * behind. The holder writes who it is into the file, so the refused one can name it.
 */
public final class ProcessLock implements AutoCloseable {
    /**
     * Lock files this process holds, with their holders. A second run in the same process is refused from here,
     * without opening the file: the kernel drops a process's lock on a file when it closes any descriptor of it.
     */
    private static final ConcurrentHashMap<Path, String> HELD = new ConcurrentHashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private ProcessLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock, writing {@code holder} into its file; if another holds it, throws what {@code refusal} makes of
     * that one's holder text (empty if unknown).
     */
    public static ProcessLock acquire(Path file, String holder, Function<String, ? extends IOException> refusal)
            throws IOException {
        Path key = file.toAbsolutePath().normalize();
        String here = HELD.putIfAbsent(key, holder);
        if (here != null) {
            throw refusal.apply(here);
        }
        FileChannel channel = null;
        try {
            Files.createDirectories(key.getParent());
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw refusal.apply(readHolder(channel));
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
            return new ProcessLock(key, channel, lock);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close(); // releases a lock taken here too
            }
            HELD.remove(key);
            throw e;
        }
    }

    /** The holder another process wrote, read through the descriptor already open (see {@link #HELD}). */
    private static String readHolder(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(channel.size(), 4096));
        while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
            // until full or at the end
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
    }

    @Override
    public void close() throws IOException {
        try {
            channel.truncate(0);
            lock.release();
            channel.close();
        } finally {
            HELD.remove(file);
        }
    }
}

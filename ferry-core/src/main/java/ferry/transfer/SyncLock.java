package ferry.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps two runs of one sync (same source and destination) from running at once, across processes: an OS file
 * lock, released by the kernel if the holder dies, so a crash never leaves a stale lock behind. The holder writes
 * who it is into the file, so the refused run can name it.
 */
final class SyncLock implements AutoCloseable {
    /**
     * Lock files this process holds, with their holders. A second run in the same process is refused from here,
     * without opening the file: the kernel drops a process's lock on a file when it closes any descriptor of it.
     */
    private static final ConcurrentHashMap<Path, String> HELD = new ConcurrentHashMap<>();

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private SyncLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    static SyncLock acquire(Path file, String holder) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        String here = HELD.putIfAbsent(key, holder);
        if (here != null) {
            throw busy(here);
        }
        FileChannel channel = null;
        try {
            Files.createDirectories(key.getParent());
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                throw busy(readHolder(channel));
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
            return new SyncLock(key, channel, lock);
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

    private static SyncBusyException busy(String holder) {
        return new SyncBusyException("refusing to start: another run of this sync is in progress ("
                + (holder.isEmpty() ? "holder unknown" : holder) + "); wait for it to finish");
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
